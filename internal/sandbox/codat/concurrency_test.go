package codat

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"
)

// TestConcurrentClients runs several complete client journeys at once, plus
// readers of the shared lists, against one emulator; run with -race.
func TestConcurrentClients(t *testing.T) {
	env := newTestEnv(t, nil)
	const clients = 8
	var wg sync.WaitGroup
	errs := make(chan error, clients+1)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A helper's t.Fatal ends this goroutine with Goexit; the
			// deferred send still reports it.
			err := fmt.Errorf("client %d aborted", i)
			defer func() { errs <- err }()
			err = runClient(t, env, i)
		}()
	}
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a reader of the shared lists while the journeys run
		defer wg.Done()
		for n := 0; n < 200; n++ {
			select {
			case <-stop:
				return
			default:
			}
			r := env.call("GET", "/companies?pageSize=5", nil)
			if r.status != 200 {
				errs <- fmt.Errorf("list companies: %d", r.status)
				return
			}
			_ = env.emu.Companies()
		}
	}()
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(env.emu.Companies()); n != clients {
		t.Fatalf("%d companies, want %d", n, clients)
	}
}

// runClient is one client's journey; it reports instead of failing so that it
// can run off the test goroutine.
func runClient(t *testing.T, env *testEnv, i int) error {
	var company companyJSON
	r := env.call("POST", "/companies", map[string]any{"name": fmt.Sprintf("Client %d", i)})
	if r.status != 200 {
		return fmt.Errorf("client %d: create company: %d %s", i, r.status, r.body)
	}
	r.decode(t, &company)
	var conn connectionJSON
	r = env.call("POST", "/companies/"+company.ID+"/connections", map[string]any{"platformKey": "mock"})
	if r.status != 200 {
		return fmt.Errorf("client %d: create connection: %d", i, r.status)
	}
	r.decode(t, &conn)
	if i%2 == 0 {
		if err := env.emu.CompleteLink(company.ID, conn.ID); err != nil {
			return err
		}
	} else {
		env.followLink(conn.LinkURL, "authorize")
	}
	if r = env.call("POST", "/companies/"+company.ID+"/data/queue/banking-transactions", nil); r.status != 200 {
		return fmt.Errorf("client %d: queue: %d %s", i, r.status, r.body)
	}
	complete := false
	for range 20 { // the clock is shared: others may advance it too
		var st map[string]dataStatusJSON
		r = env.call("GET", "/companies/"+company.ID+"/dataStatus", nil)
		r.decode(t, &st)
		if st[dataTypeTransactions].CurrentStatus == pullComplete {
			complete = true
			break
		}
		env.clock.Advance(3 * time.Second)
	}
	if !complete {
		return fmt.Errorf("client %d: pull did not complete", i)
	}
	path := "/companies/" + company.ID + "/connections/" + conn.ID + "/data/banking-transactions"
	seen := map[string]bool{}
	total := -1
	for page := 1; page <= 20; page++ {
		var p pageJSON[transactionJSON]
		r = env.call("GET", path+"?"+url.Values{"page": {fmt.Sprint(page)}, "pageSize": {"200"}}.Encode(), nil)
		if r.status != 200 {
			return fmt.Errorf("client %d: page %d: %d", i, page, r.status)
		}
		r.decode(t, &p)
		total = p.TotalResults
		for _, tx := range p.Results {
			if seen[tx.ID] {
				return fmt.Errorf("client %d: transaction %s twice", i, tx.ID)
			}
			seen[tx.ID] = true
		}
		if p.Links.Next == nil {
			break
		}
	}
	if len(seen) != total || total == 0 {
		return fmt.Errorf("client %d: read %d of %d transactions", i, len(seen), total)
	}
	return nil
}
