package harness

import "testing"

func TestParseManagerCounters(t *testing.T) {
	text := `# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="bankconnection",result="success"} 40
controller_runtime_reconcile_total{controller="bankconnection",result="requeue_after"} 2
controller_runtime_reconcile_total{controller="syncjob",result="success"} 3
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="GET"} 7
rest_client_requests_total{code="409",host="127.0.0.1:6443",method="PATCH"} 1
rest_client_requests_total{code="200",host="127.0.0.1:6443",method="PATCH"} 4
workqueue_adds_total{controller="bankconnection",name="bankconnection"} 99
`
	got, err := parseManagerCounters(text)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"reconcile bankconnection": 42, "reconcile syncjob": 3, "request GET": 7, "request PATCH": 5}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	if s := got.Sub(WriteCounts{"reconcile bankconnection": 2}).PerUnit(10); s != "reconcile bankconnection=4.00, request GET=0.70, request PATCH=0.50, reconcile syncjob=0.30" {
		t.Errorf("PerUnit = %q", s)
	}
	if _, err := parseManagerCounters("rest_client_requests_total{method=\"GET\"} x\n"); err == nil {
		t.Error("a malformed value was accepted")
	}
}
