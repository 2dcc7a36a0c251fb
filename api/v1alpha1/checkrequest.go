package v1alpha1

// OpenCheckRequest returns the gateway's check request the reconciler has not acted on
// yet (status.checkRequest not acknowledged in status.lastHandledCheckRequest), or nil.
// The gateway and the reconciler both decide from it.
func (s *BankConnectionStatus) OpenCheckRequest() *CheckRequest {
	if c := s.CheckRequest; c != nil && c.ID != s.LastHandledCheckRequest {
		return c
	}
	return nil
}
