package sandbox

// SetWebhookDelivery turns the delivery of async webhooks on (the default) or off.
// Tasks still complete; only the notification is lost.
func (s *Server) SetWebhookDelivery(enabled bool) { s.webhooksOff.Store(!enabled) }
