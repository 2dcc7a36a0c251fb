package sandbox_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// Both benchmarks run 64 concurrent clients (SetParallelism × GOMAXPROCS)
// against the sandbox over real loopback HTTP.

const benchClients = 64

func benchHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConns: benchClients * 2, MaxIdleConnsPerHost: benchClients * 2}}
}

func setParallelism64(b *testing.B) {
	p := benchClients / runtimeGOMAXPROCS()
	if p < 1 {
		p = 1
	}
	b.SetParallelism(p)
}

func BenchmarkTokenRefresh(b *testing.B) {
	for _, alg := range []sandbox.TokenAlgorithm{sandbox.AlgRS256, sandbox.AlgES256} {
		b.Run(string(alg), func(b *testing.B) {
			e := newEnv(b, func(o *sandbox.Options) { o.TokenAlgorithm = alg })
			refresh := make([]string, benchClients*4)
			for i := range refresh {
				refresh[i] = e.consent("john", "doe").Refresh
			}
			client := benchHTTPClient()
			var next atomic.Int64
			setParallelism64(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Each client owns one connection and keeps its rotating refresh token.
				rt := refresh[int(next.Add(1)-1)%len(refresh)]
				for pb.Next() {
					form := url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}, "client_secret": {testSecret}, "refresh_token": {rt}}
					resp, err := client.Post(e.base+"/connect/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
					if err != nil {
						b.Error(err)
						return
					}
					var tk tokens
					err = json.NewDecoder(resp.Body).Decode(&tk)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 {
						b.Errorf("refresh: %d %v", resp.StatusCode, err)
						return
					}
					rt = tk.Refresh
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "refreshes/s")
		})
	}
}

func BenchmarkTransactionFetch(b *testing.B) {
	e := newEnv(b, func(o *sandbox.Options) { o.DatasetSize = "medium" })
	tk := e.consent("john", "doe")
	accts, _ := e.accountIDs(tk)
	base := e.base + "/data/v1/accounts/" + accts[0] + "/transactions?from=2025-12-03&to="
	for _, tc := range []struct {
		name string
		to   func(i int64) string
	}{
		// The same 90-day window every time (served from the response cache).
		{"same-window", func(int64) string { return "2026-03-01" }},
		// A different window end (to the second) nearly every time: generated and encoded per request.
		{"distinct-windows", func(i int64) string {
			return time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i%86400) * time.Second).Format("2006-01-02T15:04:05")
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			client := benchHTTPClient()
			var seq atomic.Int64
			setParallelism64(b)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequest(http.MethodGet, base+tc.to(seq.Add(1)), nil)
					req.Header.Set("Authorization", "Bearer "+tk.Access)
					req.Header.Set("X-PSU-IP", "192.0.2.10") // attended: no daily limit
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("fetch: %d", resp.StatusCode)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "fetches/s")
		})
	}
}
