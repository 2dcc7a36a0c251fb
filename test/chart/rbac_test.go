package chart_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/consent-operator/consent-operator/internal/testenv"
)

// permission is one (group, resource, resourceName, verb) grant; comparing sets of them
// ignores how rules happen to be grouped.
type permission struct{ group, resource, name, verb string }

func permissions(rules []rbacv1.PolicyRule) []permission {
	var out []permission
	for _, r := range rules {
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					for _, v := range r.Verbs {
						out = append(out, permission{g, res, n, v})
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b permission) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return slices.Compact(out)
}

func checkNoWildcards(t *testing.T, what string, rules []rbacv1.PolicyRule) {
	t.Helper()
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			t.Errorf("%s grants non-resource URLs %v", what, r.NonResourceURLs)
		}
		for _, s := range slices.Concat(r.APIGroups, r.Resources, r.Verbs, r.ResourceNames) {
			if strings.Contains(s, "*") {
				t.Errorf("%s has a wildcard in rule %+v", what, r)
			}
		}
	}
}

// The manager's ClusterRole must grant exactly what controller-gen derives from the
// +kubebuilder:rbac markers in config/rbac/role.yaml: no more (least privilege), no less
// (the manager would fail at runtime).
func TestClusterRoleEqualsGeneratedRole(t *testing.T) {
	want := permissions(configRole(t, "role.yaml").Rules)
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.files...)
			manager := suffixed[rbacv1.ClusterRole](t, objs, "ClusterRole", "-manager")
			checkNoWildcards(t, "manager ClusterRole", manager.Rules)
			got := permissions(manager.Rules)
			if !slices.Equal(got, want) {
				t.Errorf("manager ClusterRole differs from config/rbac/role.yaml\n got %v\nwant %v", got, want)
			}
		})
	}
}

// The namespaced Role grants only the Lease and the state-key Secret, by name where
// Kubernetes allows it.
func TestNamespacedRoleIsPinned(t *testing.T) {
	objs := mustRender(t)
	role := typed[rbacv1.Role](t, named(t, objs, "Role", "consent-operator-manager"))
	checkNoWildcards(t, "Role", role.Rules)
	want := []permission{
		{"", "events", "", "create"}, {"", "events", "", "patch"},
		{"", "secrets", "", "create"},
		{"", "secrets", "consent-operator-state-key", "get"},
		{"", "secrets", "consent-operator-state-key", "list"},
		{"", "secrets", "consent-operator-state-key", "patch"},
		{"", "secrets", "consent-operator-state-key", "update"},
		{"", "secrets", "consent-operator-state-key", "watch"},
		{"", "secrets", "consent-operator-state-key-client-tokens", "get"},
		{"", "secrets", "consent-operator-state-key-client-tokens", "patch"},
		{"", "secrets", "consent-operator-state-key-client-tokens", "update"},
		{"coordination.k8s.io", "leases", "", "create"},
		{"coordination.k8s.io", "leases", "consent-operator.banking.consent-operator.dev", "get"},
		{"coordination.k8s.io", "leases", "consent-operator.banking.consent-operator.dev", "patch"},
		{"coordination.k8s.io", "leases", "consent-operator.banking.consent-operator.dev", "update"},
		{"events.k8s.io", "events", "", "create"}, {"events.k8s.io", "events", "", "patch"},
	}
	slices.SortFunc(want, func(a, b permission) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if got := permissions(role.Rules); !slices.Equal(got, want) {
		t.Errorf("Role permissions\n got %v\nwant %v", got, want)
	}
	binding := typed[rbacv1.RoleBinding](t, named(t, objs, "RoleBinding", "consent-operator-manager"))
	if binding.RoleRef.Name != role.Name || len(binding.Subjects) != 1 || binding.Subjects[0].Name != "consent-operator" {
		t.Errorf("RoleBinding does not bind the Role to the ServiceAccount: %+v", binding)
	}
}

// kube-state-metrics only needs to list and watch the two kinds.
func TestKubeStateMetricsClusterRoleIsReadOnly(t *testing.T) {
	role := suffixed[rbacv1.ClusterRole](t, mustRender(t, productionValues), "ClusterRole", "-kube-state-metrics")
	checkNoWildcards(t, role.Name, role.Rules)
	for _, p := range permissions(role.Rules) {
		if p.verb != "list" && p.verb != "watch" {
			t.Errorf("kube-state-metrics ClusterRole grants %v", p)
		}
	}
}

// TestNamespacedScope: with rbac.scope Namespaced the manager holds its rights, Secrets
// included, only in the namespace it watches; the ClusterRole keeps the metrics
// endpoint's reviews and nothing on namespaced resources; the manager watches that
// namespace; and the chart refuses the scope without a namespace.
func TestNamespacedScope(t *testing.T) {
	objs, err := renderChart(t, nil, map[string]any{"rbac": map[string]any{"scope": "Namespaced"},
		"manager": map[string]any{"watchNamespace": "tenant-a"}})
	if err != nil {
		t.Fatal(err)
	}
	cluster := suffixed[rbacv1.ClusterRole](t, objs, "ClusterRole", "-manager")
	for _, p := range permissions(cluster.Rules) {
		if p.group != "authentication.k8s.io" && p.group != "authorization.k8s.io" {
			t.Errorf("the Namespaced ClusterRole grants %v", p)
		}
	}
	var watched *rbacv1.Role
	for _, o := range testenv.Find(objs, "Role") {
		if o.GetNamespace() == "tenant-a" {
			watched = testenv.One[rbacv1.Role](t, []*unstructured.Unstructured{o}, "Role")
		}
	}
	if watched == nil {
		t.Fatal("no Role in the watched namespace")
	}
	checkNoWildcards(t, "watched Role", watched.Rules)
	generated := map[permission]bool{}
	for _, p := range permissions(configRole(t, "role.yaml").Rules) {
		if p.group != "authentication.k8s.io" && p.group != "authorization.k8s.io" {
			generated[p] = true
		}
	}
	got := permissions(watched.Rules)
	if len(got) != len(generated) {
		t.Errorf("watched Role %v, want the generated role's namespaced rules %v", got, generated)
	}
	for _, p := range got {
		if !generated[p] {
			t.Errorf("watched Role grants %v, which the generated role does not", p)
		}
	}
	d := managerDeployment(t, objs)
	if ns, ok := arg(managerContainer(t, d), "--namespace"); !ok || ns != "tenant-a" {
		t.Errorf("manager --namespace %q, want tenant-a", ns)
	}
	if _, err := renderChart(t, nil, map[string]any{"rbac": map[string]any{"scope": "Namespaced"}}); err == nil ||
		!strings.Contains(err.Error(), "watchNamespace") {
		t.Errorf("Namespaced without a namespace rendered (err %v)", err)
	}
}
