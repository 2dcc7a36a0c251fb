package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// ManagerCounters are counters the manager keeps about its own work, read from its
// /metrics (served as plain HTTP on loopback: --metrics-secure=false): reconciles by
// controller ("reconcile bankconnection") from controller_runtime_reconcile_total, and
// the requests it sent the apiserver by method ("request GET") from client-go's
// rest_client_requests_total. Unlike the apiserver's counters they count only the
// manager, so reads and reconciles are attributed to it, not inferred.
// They are counts by key like WriteCounts, and share its methods.
type ManagerCounters = WriteCounts

// ReadManagerCounters scrapes the manager's metrics at addr (host:port).
func ReadManagerCounters(ctx context.Context, addr string) (ManagerCounters, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reading the manager's /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("reading the manager's /metrics: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the manager's /metrics: %w", err)
	}
	return parseManagerCounters(string(body))
}

// managerCounterKeys name the counters kept and the label each is keyed by.
var managerCounterKeys = map[string]struct{ prefix, label string }{
	"controller_runtime_reconcile_total": {"reconcile", "controller"},
	"rest_client_requests_total":         {"request", "method"},
}

func parseManagerCounters(text string) (ManagerCounters, error) {
	out := WriteCounts{}
	for _, line := range strings.Split(text, "\n") {
		open := strings.IndexByte(line, '{')
		if open < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		key, ok := managerCounterKeys[line[:open]]
		if !ok {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < open {
			return nil, fmt.Errorf("malformed metric line %q", line)
		}
		labels := map[string]string{}
		for _, m := range labelRE.FindAllStringSubmatch(line[open:end], -1) {
			labels[m[1]] = m[2]
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("parsing value of %q: %w", line, err)
		}
		out[key.prefix+" "+labels[key.label]] += v
	}
	return out, nil
}
