package dataapi

import "net/http"

// erase removes everything stored for the user in the namespace: rows of its
// connections, present and deleted. It does not delete BankConnections (that is
// the application's own Kubernetes call, which also revokes the consent); a
// connection that still exists stores new rows at its next run.
func (s *Server) erase(r *http.Request, sc *scope) (any, error) {
	erased, err := s.Store.DeleteUser(r.Context(), *sc.user)
	if err != nil {
		return nil, err
	}
	s.Log.Info("User data erased", "namespace", sc.namespace, "rows", erased.Total())
	return erasureView(sc.user.UserRef, erased), nil
}
