// Package harness runs the pieces the scale benchmark (test/scale) and the fault
// suite (test/faults) share: a kube-apiserver and etcd that can be restarted, the bank
// sandbox with a recorder of token calls, the manager as a separate process (so its
// memory and CPU can be read from /proc and it can be killed), the apiserver's write
// counters, and a driver that plays thousands of users completing their consents.
//
// It does not import internal/manager or internal/testenv: the manager runs as a
// separate binary, and the harness must build even while the controllers are being
// changed. Its control plane is the tests' one (internal/repo), its scheme the
// manager's (internal/scheme).
package harness
