package codat

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCompileQuery(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	rec := record{"name": "Hooli Saver", "amount": -14.26, "enabled": true, "postedDate": at, "merchantName": nil}
	cases := []struct {
		query string
		want  bool
		bad   bool   // the query does not compile
		prop  string // ...because of this unknown property
	}{
		{query: "name=Hooli Saver", want: true},
		{query: "name='Hooli Saver'", want: true},
		{query: "name!=Hooli Saver", want: false},
		{query: "name~saver", want: true},
		{query: "amount<0", want: true},
		{query: "amount>=-14.26&&amount<=-14.26", want: true},
		{query: "amount>0||enabled=true", want: true},
		{query: "amount>0||{enabled=false&&name~hooli}", want: false},
		{query: "enabled=TRUE", want: true},
		{query: "postedDate>2024-05-01", want: true},
		{query: "postedDate>2024-05-01T12:00:00Z", want: false},
		{query: "postedDate<2024-05-02", want: true},
		{query: "merchantName=null", want: true},
		{query: "merchantName!=null", want: false},
		{query: "amount>abc", want: false},
		{query: "", bad: true},
		{query: "name", bad: true},
		{query: "name=a&&", bad: true},
		{query: "{name=a", bad: true},
		{query: "colour=red", bad: true, prop: "colour"},
	}
	fields := record{"name": nil, "amount": nil, "enabled": nil, "postedDate": nil, "merchantName": nil}
	for _, tc := range cases {
		pred, err := compileQuery(tc.query, fields)
		if tc.bad {
			if err == nil {
				t.Errorf("%q compiled", tc.query)
			} else if err.property != tc.prop {
				t.Errorf("%q: unresolved property %q, want %q", tc.query, err.property, tc.prop)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %+v", tc.query, err)
			continue
		}
		if got := pred(rec); got != tc.want {
			t.Errorf("%q = %v, want %v", tc.query, got, tc.want)
		}
	}
}

func TestPullStatusFollowsClock(t *testing.T) {
	p := &pull{requested: testStart, duration: 8 * time.Second}
	cases := []struct {
		after    time.Duration
		status   string
		progress int
	}{
		{0, pullInitial, 0},
		{1 * time.Second, pullInitial, 0},
		{2 * time.Second, pullQueued, 25},
		{4 * time.Second, pullFetching, 50},
		{6 * time.Second, pullFetching, 75},
		{8 * time.Second, pullComplete, 100},
		{time.Hour, pullComplete, 100},
	}
	for _, tc := range cases {
		status, progress := p.statusAt(testStart.Add(tc.after))
		if status != tc.status || progress != tc.progress {
			t.Errorf("after %s: %s %d, want %s %d", tc.after, status, progress, tc.status, tc.progress)
		}
	}
	failed := &pull{requested: testStart, duration: time.Second, failure: pullAuthError}
	if s, _ := failed.statusAt(testStart); s != pullAuthError || failed.isSuccessfulAt(testStart.Add(time.Hour)) {
		t.Errorf("a failed pull is %s", s)
	}
}

func TestClassify(t *testing.T) {
	env := newTestEnv(t, nil)
	const c, x = "3fa85f64-5717-4562-b3fc-2c963f66afa6", "51baa045-4836-4317-a42e-3542e991e581"
	cases := []struct {
		method, target string
		want           RouteInfo
	}{
		{"GET", "/integrations", RouteInfo{OperationID: "list-integrations"}},
		{"POST", "/companies", RouteInfo{OperationID: "create-company"}},
		{"GET", "/companies/" + c, RouteInfo{OperationID: "get-company", CompanyID: c}},
		{"PATCH", "/companies/" + c + "/connections/" + x, RouteInfo{OperationID: "unlink-connection", CompanyID: c, ConnectionID: x}},
		{"POST", "/companies/" + c + "/data/queue/banking-accounts?connectionId=" + x, RouteInfo{OperationID: "refresh-data-type", CompanyID: c, ConnectionID: x}},
		{"GET", "/companies/" + c + "/connections/" + x + "/data/banking-transactions?page=2", RouteInfo{OperationID: "list-transactions", CompanyID: c, ConnectionID: x}},
		{"GET", "/link/companies/" + c + "/connections/" + x + "/start", RouteInfo{OperationID: "link-start", CompanyID: c, ConnectionID: x}},
		{"GET", "/link/company/" + c, RouteInfo{OperationID: "link-company", CompanyID: c}},
		{"PUT", "/companies/" + c, RouteInfo{CompanyID: c}},
		{"GET", "/elsewhere", RouteInfo{}},
	}
	for _, tc := range cases {
		if got := env.emu.Classify(httptest.NewRequest(tc.method, tc.target, nil)); got != tc.want {
			t.Errorf("%s %s = %+v, want %+v", tc.method, tc.target, got, tc.want)
		}
	}
}

// TestMountPaths mounts the emulator next to another handler on one mux, as
// the sandbox server does with the TrueLayer emulator.
func TestMountPaths(t *testing.T) {
	env := newTestEnv(t, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, p := range MountPaths {
		mux.Handle(p, env.emu.Handler())
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, want := range map[string]int{
		"/companies":         http.StatusOK,
		"/integrations/mock": http.StatusOK,
		"/link/complete":     http.StatusOK,
		"/connect/token":     http.StatusTeapot,
		"/":                  http.StatusTeapot,
	} {
		if got := env.call("GET", srv.URL+path, nil).status; got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
}
