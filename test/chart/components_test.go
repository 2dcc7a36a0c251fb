package chart_test

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// componentDeployment returns the Deployment of one component (manager or gateway),
// by its app.kubernetes.io/component label.
func componentDeployment(t testing.TB, objs []*unstructured.Unstructured, component string) *appsv1.Deployment {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetLabels()["app.kubernetes.io/component"] == component {
			return typed[appsv1.Deployment](t, o)
		}
	}
	t.Fatalf("no Deployment of component %s", component)
	return nil
}

func managerDeployment(t testing.TB, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	return componentDeployment(t, objs, "manager")
}

// The gateway's ClusterRole grants exactly what controller-gen derives from
// internal/gateway/rbac.go (config/rbac/gateway/role.yaml).
func TestGatewayClusterRoleEqualsGeneratedRole(t *testing.T) {
	want := permissions(configRole(t, "gateway", "role.yaml").Rules)
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			role := typed[rbacv1.ClusterRole](t, named(t, mustRender(t, vs.files...), "ClusterRole", "consent-operator-gateway"))
			checkNoWildcards(t, "gateway ClusterRole", role.Rules)
			if got := permissions(role.Rules); !slices.Equal(got, want) {
				t.Errorf("gateway ClusterRole differs from config/rbac/gateway/role.yaml\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestGatewayHoldsNoSecretRights: in every install mode, whatever is bound to the
// gateway's ServiceAccount grants no Secret verb beyond reading its journey key by
// name in the release namespace, and no write beyond status patches and events.
func TestGatewayHoldsNoSecretRights(t *testing.T) {
	type install struct {
		name      string
		files     []string
		overrides map[string]any
	}
	sets := []install{{name: "namespaced", overrides: map[string]any{
		"rbac": map[string]any{"scope": "Namespaced"}, "manager": map[string]any{"watchNamespace": "tenant-a"}}}}
	for _, vs := range valueSets {
		sets = append(sets, install{name: vs.name, files: vs.files})
	}
	for _, vs := range sets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRenderWith(t, vs.files, vs.overrides)
			gw := componentDeployment(t, objs, "gateway")
			sa := gw.Spec.Template.Spec.ServiceAccountName
			if sa == managerDeployment(t, objs).Spec.Template.Spec.ServiceAccountName {
				t.Fatalf("the gateway runs as the manager's ServiceAccount %s", sa)
			}
			grants := boundPermissions(t, objs, sa)
			if len(grants) == 0 {
				t.Fatal("nothing is bound to the gateway's ServiceAccount")
			}
			for _, g := range grants {
				p := g.permission
				switch {
				case p.resource == "secrets":
					if p.name != "consent-operator-state-key" || !slices.Contains([]string{"get", "list", "watch"}, p.verb) || g.namespace != releaseNamespace {
						t.Errorf("gateway Secret grant %+v in %q: only get/list/watch of the journey key in %s", p, g.namespace, releaseNamespace)
					}
				case strings.HasSuffix(p.resource, "/status"):
					if p.verb != "patch" {
						t.Errorf("gateway grant %+v: status is only patched", p)
					}
				case p.resource == "bankconnections" || p.resource == "syncjobs":
					if !slices.Contains([]string{"get", "list", "watch"}, p.verb) {
						t.Errorf("gateway grant %+v: specs are read-only to the gateway", p)
					}
				case p.resource == "events" || p.resource == "tokenreviews" || p.resource == "subjectaccessreviews":
					if !slices.Contains([]string{"create", "patch"}, p.verb) {
						t.Errorf("gateway grant %+v", p)
					}
				default:
					t.Errorf("gateway grant %+v: the gateway does not need %s", p, p.resource)
				}
			}
			for _, c := range managerDeployment(t, objs).Spec.Template.Spec.Containers {
				for _, port := range c.Ports {
					if port.Name == "gateway" || port.ContainerPort == 8082 {
						t.Errorf("the manager exposes the gateway port %+v", port)
					}
				}
				if _, ok := arg(c, "--gateway-bind-address"); ok {
					t.Error("the manager is told to serve the gateway")
				}
			}
		})
	}
}

// TestGatewayArgsParse: the gateway's arguments are the gateway subcommand and its flags.
func TestGatewayArgsParse(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			c := componentDeployment(t, mustRender(t, vs.files...), "gateway").Spec.Template.Spec.Containers[0]
			if len(c.Args) == 0 || c.Args[0] != "gateway" {
				t.Fatalf("gateway args %q do not start with the gateway subcommand", c.Args)
			}
			fs := flag.NewFlagSet("consent-operator gateway", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			opts := manager.DefaultGatewayOptions()
			opts.BindFlags(fs)
			(&zap.Options{}).BindFlags(fs)
			if err := fs.Parse(c.Args[1:]); err != nil {
				t.Fatalf("the gateway rejects the chart's args: %v", err)
			}
			if fs.NArg() != 0 {
				t.Errorf("positional arguments left: %v", fs.Args())
			}
		})
	}
}

// grant is a permission bound to a subject, with the namespace of its Role ("" for a
// ClusterRole bound cluster-wide).
type grant struct {
	permission
	namespace string
}

func boundPermissions(t *testing.T, objs []*unstructured.Unstructured, sa string) []grant {
	t.Helper()
	var out []grant
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, o := range testenv.Find(objs, kind) {
			b := typed[rbacv1.RoleBinding](t, withKind(o, "RoleBinding"))
			if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool { return s.Kind == "ServiceAccount" && s.Name == sa }) {
				continue
			}
			role := typed[rbacv1.Role](t, withKind(named(t, objs, b.RoleRef.Kind, b.RoleRef.Name), "Role"))
			for _, p := range permissions(role.Rules) {
				out = append(out, grant{permission: p, namespace: o.GetNamespace()})
			}
		}
	}
	return out
}

// withKind converts a cluster-scoped RBAC object into its namespaced shape (the same
// fields), so one conversion reads both.
func withKind(o *unstructured.Unstructured, kind string) *unstructured.Unstructured {
	c := o.DeepCopy()
	c.SetKind(kind)
	return c
}

// TestGoMemoryLimit: both components tell the Go runtime their container's memory
// limit (GOMEMLIMIT from limits.memory), and have one, so a burst makes the GC work
// harder instead of the kernel killing the pod.
func TestGoMemoryLimit(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.files...)
			for _, component := range []string{"manager", "gateway"} {
				c := componentDeployment(t, objs, component).Spec.Template.Spec.Containers[0]
				if c.Resources.Limits.Memory().IsZero() {
					t.Errorf("%s has no memory limit", component)
				}
				if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
					return e.Name == "GOMEMLIMIT" && e.ValueFrom != nil && e.ValueFrom.ResourceFieldRef != nil &&
						e.ValueFrom.ResourceFieldRef.Resource == "limits.memory"
				}) {
					t.Errorf("%s: GOMEMLIMIT is not its memory limit: %+v", component, c.Env)
				}
			}
		})
	}
}
