package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// auditPolicy records every write (at Metadata level: who, what, no bodies) once it
// completes, and nothing else.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`

// enableAudit makes the apiserver write its audit log of writes into dir.
func enableAudit(api *envtest.APIServer, dir string) (string, error) {
	policy := filepath.Join(dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return "", fmt.Errorf("writing audit policy: %w", err)
	}
	log := filepath.Join(dir, "audit.log")
	args := api.Configure()
	args.Set("audit-policy-file", policy)
	args.Set("audit-log-path", log)
	args.Set("audit-log-format", "json")
	args.Set("audit-log-mode", "blocking")
	args.Set("audit-log-maxsize", "0")
	return log, nil
}

// AuditWrites counts successful writes by writer: "component VERB resource[/sub]",
// the component being the request's user agent up to its first "/" (the manager and
// the gateway each write under their own), read from the audit log.
type AuditWrites map[string]int

// AuditMark is a position in the audit log.
type AuditMark int64

// Mark returns the audit log's current end, to count only what follows.
func (cp *ControlPlane) Mark() AuditMark {
	fi, err := os.Stat(cp.AuditLog)
	if err != nil {
		return 0
	}
	return AuditMark(fi.Size())
}

// AuditSince reads the writes recorded after mark that the filter accepts (by user
// agent component; nil: all).
func (cp *ControlPlane) AuditSince(mark AuditMark, keep func(component string) bool) (AuditWrites, error) {
	f, err := os.Open(cp.AuditLog)
	if err != nil {
		return nil, fmt.Errorf("opening audit log: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(int64(mark), io.SeekStart); err != nil {
		return nil, err
	}
	out := AuditWrites{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			Stage     string `json:"stage"`
			Verb      string `json:"verb"`
			UserAgent string `json:"userAgent"`
			ObjectRef struct {
				Resource    string `json:"resource"`
				Subresource string `json:"subresource"`
			} `json:"objectRef"`
			ResponseStatus struct {
				Code int `json:"code"`
			} `json:"responseStatus"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.Stage != "ResponseComplete" || ev.ResponseStatus.Code >= 300 {
			continue
		}
		component, _, _ := strings.Cut(ev.UserAgent, "/")
		if keep != nil && !keep(component) || ev.ObjectRef.Resource == "leases" {
			continue
		}
		key := component + " " + strings.ToUpper(ev.Verb) + " " + ev.ObjectRef.Resource
		if ev.ObjectRef.Subresource != "" {
			key += "/" + ev.ObjectRef.Subresource
		}
		out[key]++
	}
	return out, sc.Err()
}

// Total is the number of writes counted.
func (a AuditWrites) Total() int {
	n := 0
	for _, v := range a {
		n += v
	}
	return n
}

// PerUnit formats the counts divided by n ("component VERB resource=x.xx", sorted).
func (a AuditWrites) PerUnit(n int) string {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.2f", k, float64(a[k])/float64(max(n, 1))))
	}
	return strings.Join(parts, ", ")
}

// IsOperator keeps the operator's components (the manager and the gateway).
func IsOperator(component string) bool { return strings.HasPrefix(component, "consent-operator") }
