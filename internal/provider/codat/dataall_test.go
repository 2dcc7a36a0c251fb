package codat_test

import (
	"context"
	"testing"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// TestAllDataIsOneRefreshTrackedByDataStatus: a run that wants every data type
// asks Codat once to refresh them all (POST data/all), queues nothing per type,
// and follows the pulls through dataStatus, not their history records.
func TestAllDataIsOneRefreshTrackedByDataStatus(t *testing.T) {
	e := newEnv(t, nil, nil)
	ctx := context.Background()
	conn := linkedConn(t, e)
	sess := provider.Session{Refs: conn.Refs}
	fetches := []provider.Fetch{
		{Resource: provider.ResourceAccounts, AllData: true},
		{Resource: provider.ResourceBalance, AllData: true},
		{Resource: provider.ResourceTransactions, AllData: true},
	}
	tasks := make([]provider.Task, len(fetches))
	for i, f := range fetches {
		res, err := e.client.Fetch(ctx, conn, sess, f)
		if err != nil || res.Task == nil {
			t.Fatalf("fetch %s: %+v %v", f.Resource, res, err)
		}
		tasks[i] = *res.Task
		if d, err := e.client.Collect(ctx, conn, sess, tasks[i], f); d != nil || err != nil {
			t.Fatalf("collect %s while Codat pulls: %+v %v", f.Resource, d, err)
		}
	}
	e.clk.Advance(pullDuration)
	for i, f := range fetches {
		d, err := e.client.Collect(ctx, conn, sess, tasks[i], f)
		if err != nil || d == nil {
			t.Fatalf("collect %s: %+v %v", f.Resource, d, err)
		}
		if len(d.Accounts)+len(d.Balances)+len(d.Transactions) == 0 {
			t.Fatalf("collect %s: no data", f.Resource)
		}
	}
	for endpoint, want := range map[string]int{
		"POST /companies/{companyId}/data/all":                           1,
		"POST /companies/{companyId}/data/queue/banking-accounts":        0,
		"POST /companies/{companyId}/data/queue/banking-accountBalances": 0,
		"POST /companies/{companyId}/data/queue/banking-transactions":    0,
		"GET /companies/{companyId}/data/history/{datasetId}":            0,
	} {
		if got := e.obs.Count(endpoint); got != want {
			t.Errorf("%s: %d calls, want %d", endpoint, got, want)
		}
	}
	if e.obs.Count("GET /companies/{companyId}/dataStatus") == 0 {
		t.Error("the pulls were not tracked through dataStatus")
	}
}
