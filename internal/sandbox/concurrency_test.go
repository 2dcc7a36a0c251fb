package sandbox_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// Concurrent clients doing journeys, refreshes and reads while the admin
// surface is used; run with -race.
func TestConcurrentClients(t *testing.T) {
	e := newEnv(t)
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan error, workers*4)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			user := fmt.Sprintf("john%d", w%5+1)
			code, err := e.srv.Authorize(sandbox.AuthorizeRequest{ClientID: testClient, RedirectURI: testRedirect, Scopes: fullScopes, Username: user, Password: "doe"})
			if err != nil {
				errs <- err
				return
			}
			r := e.exchange(code)
			if r.status != 200 {
				errs <- fmt.Errorf("exchange: %d", r.status)
				return
			}
			tk := r.tokens(t)
			for i := 0; i < 5; i++ {
				r := e.refresh(tk.Refresh)
				if r.status != 200 {
					errs <- fmt.Errorf("worker %d refresh %d: %d %s", w, i, r.status, r.body)
					return
				}
				tk = r.tokens(t)
				if s := e.get("/data/v1/accounts", tk.Access, "X-PSU-IP", "10.1.1.1").status; s != 200 {
					errs <- fmt.Errorf("worker %d accounts: %d", w, s)
					return
				}
			}
			_ = e.srv.Calls(sandbox.CallFilter{Client: testClient})
			id, _ := e.srv.InjectFault(sandbox.Fault{Kind: sandbox.FaultError, Error: "provider_error", Endpoint: "/never/"})
			e.srv.RemoveFault(id)
			_ = e.srv.Connections()
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.srv.CallTotal(sandbox.CallFilter{Endpoint: "POST /connect/token"}); got != workers*6 {
		t.Fatalf("token calls = %d, want %d", got, workers*6)
	}
	if got := e.srv.ErrorTotal(sandbox.CallFilter{Error: "invalid_grant"}); got != 0 {
		t.Fatalf("invalid_grant answers = %d", got)
	}
}
