package harness

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// WriteCounts are the apiserver's completed write requests by "VERB resource[/sub]",
// read from apiserver_request_total on its /metrics endpoint. The apiserver counts
// every request it serves, whoever sent it, so the harness reads the counters around
// phases in which only the manager writes (or subtracts its own, known writes).
type WriteCounts map[string]float64

// writeVerbs are the verbs that change state (apiserver_request_total's verb label).
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

// ignoredResources are written by the apiserver itself (its identity lease), not by
// any client the harness measures.
var ignoredResources = map[string]bool{"leases": true}

var labelRE = regexp.MustCompile(`(\w+)="([^"]*)"`)

// ReadWrites scrapes the apiserver's counters.
func ReadWrites(ctx context.Context, cfg *rest.Config) (WriteCounts, error) {
	rc, err := rest.UnversionedRESTClientFor(withSerializer(cfg))
	if err != nil {
		return nil, fmt.Errorf("apiserver metrics client: %w", err)
	}
	body, err := rc.Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading apiserver /metrics: %w", err)
	}
	return parseWrites(string(body))
}

func parseWrites(text string) (WriteCounts, error) {
	out := WriteCounts{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		if end < 0 {
			return nil, fmt.Errorf("malformed metric line %q", line)
		}
		labels := map[string]string{}
		for _, m := range labelRE.FindAllStringSubmatch(line[:end], -1) {
			labels[m[1]] = m[2]
		}
		if !writeVerbs[labels["verb"]] || ignoredResources[labels["resource"]] {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return nil, fmt.Errorf("parsing value of %q: %w", line, err)
		}
		key := labels["verb"] + " " + labels["resource"]
		if sub := labels["subresource"]; sub != "" {
			key += "/" + sub
		}
		out[key] += v
	}
	return out, nil
}

// Sub returns the counts that grew since before.
func (w WriteCounts) Sub(before WriteCounts) WriteCounts {
	out := WriteCounts{}
	for k, v := range w {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Total is the sum of all counts.
func (w WriteCounts) Total() float64 {
	var n float64
	for _, v := range w {
		n += v
	}
	return n
}

// String lists the counts, largest first.
func (w WriteCounts) String() string { return w.format("%s=%.0f") }

// keysLargestFirst are the keys, largest count first (then by name).
func (w WriteCounts) keysLargestFirst() []string {
	keys := make([]string, 0, len(w))
	for k := range w {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return w[keys[i]] > w[keys[j]] || w[keys[i]] == w[keys[j]] && keys[i] < keys[j] })
	return keys
}

func (w WriteCounts) format(layout string) string {
	keys := w.keysLargestFirst()
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf(layout, k, w[k])
	}
	return strings.Join(parts, ", ")
}

// PerUnit lists the counts divided by n, largest first ("reconcile bankconnection=4.10").
func (w WriteCounts) PerUnit(n int) string {
	per := WriteCounts{}
	for k, v := range w {
		per[k] = v / float64(max(n, 1))
	}
	return per.format("%s=%.2f")
}

func withSerializer(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	if c.NegotiatedSerializer == nil {
		c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	}
	return c
}
