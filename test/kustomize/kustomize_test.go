// Package kustomize_test builds config/default with kustomize's Go API and checks that
// it deploys a working operator: every argument of the manager and the gateway is a
// real flag, the SQLite store and /tmp sit on volumes (the root filesystem is
// read-only), the gateway is its own Deployment with a Service and no Secret rights
// beyond its key, the manager exposes no public port, and every object passes a
// server-side dry run on a real kube-apiserver.
package kustomize_test

import (
	"context"
	"flag"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/repo"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

const namespace = "consent-operator-system"

var env *testenv.Env

func TestMain(m *testing.M) { testenv.Main(m, &env) }

// build runs `kustomize build config/default` in-process.
func build(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	dir, err := repo.Path("config", "default")
	if err != nil {
		t.Fatal(err)
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	yml, err := res.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := testenv.DecodeObjects(string(yml))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func TestKinds(t *testing.T) {
	want := map[string]int{"Namespace": 1, "CustomResourceDefinition": 2, "ServiceAccount": 2, "ClusterRole": 3,
		"ClusterRoleBinding": 2, "Role": 2, "RoleBinding": 2, "Deployment": 2, "Service": 3, "PersistentVolumeClaim": 1,
		"NetworkPolicy": 2}
	got := map[string]int{}
	for _, o := range build(t) {
		got[o.GetKind()]++
		if o.GetKind() == "Namespace" && o.GetName() != namespace {
			t.Errorf("namespace %s, want %s", o.GetName(), namespace)
		}
		if ns := o.GetNamespace(); ns != "" && ns != namespace {
			t.Errorf("%s %s is in namespace %s", o.GetKind(), o.GetName(), ns)
		}
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%d %s, want %d (all: %v)", got[k], k, n, got)
		}
	}
}

// component returns the Deployment of one component (app.kubernetes.io/component).
func component(t *testing.T, objs []*unstructured.Unstructured, name string) *appsv1.Deployment {
	t.Helper()
	for _, u := range testenv.Find(objs, "Deployment") {
		if u.GetLabels()["app.kubernetes.io/component"] == name {
			return testenv.One[appsv1.Deployment](t, []*unstructured.Unstructured{u}, "Deployment")
		}
	}
	t.Fatalf("no Deployment of component %s", name)
	return nil
}

func onlyContainer(t *testing.T, pod corev1.PodSpec) corev1.Container {
	t.Helper()
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	return pod.Containers[0]
}

// parseArgs parses a container's arguments with a component's own flags (a typo would
// crash-loop the pod).
func parseArgs(t *testing.T, name string, args []string, bind func(*flag.FlagSet)) {
	t.Helper()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	bind(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("%s arguments %q: %v", name, args, err)
	}
	if fs.NArg() != 0 {
		t.Fatalf("%s: stray arguments %q", name, fs.Args())
	}
}

// checkPorts checks that each named listener is on its declared container port, and
// that the probes use the probes port.
func checkPorts(t *testing.T, c corev1.Container, listeners map[string]string) {
	t.Helper()
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if len(ports) != len(listeners) {
		t.Errorf("container %s declares ports %v, want exactly %v", c.Name, ports, listeners)
	}
	for name, addr := range listeners {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port != strconv.Itoa(int(ports[name])) {
			t.Errorf("%s: %s listens on %q, the container port %q is %d", c.Name, name, addr, name, ports[name])
		}
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.StrVal != "probes" {
			t.Errorf("%s: probe %+v does not use the probes port", c.Name, p)
		}
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Errorf("%s: the root filesystem is not read-only", c.Name)
	}
}

// servicesOf returns the target ports of the Services selecting d's pods, failing on
// a target port the container does not declare.
func servicesOf(t *testing.T, objs []*unstructured.Unstructured, d *appsv1.Deployment) map[string]bool {
	t.Helper()
	podLabels := labels.Set(d.Spec.Template.Labels)
	declared := map[string]bool{}
	for _, p := range d.Spec.Template.Spec.Containers[0].Ports {
		declared[p.Name] = true
	}
	targets := map[string]bool{}
	for _, u := range testenv.Find(objs, "Service") {
		svc := testenv.One[corev1.Service](t, []*unstructured.Unstructured{u}, "Service")
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			continue
		}
		for _, p := range svc.Spec.Ports {
			if !declared[p.TargetPort.StrVal] {
				t.Errorf("Service %s targets port %q, which %s does not declare", svc.Name, p.TargetPort.StrVal, d.Name)
			}
			targets[p.TargetPort.StrVal] = true
		}
	}
	return targets
}

// TestManagerDeployment checks the manager's Deployment against its own flags: it
// serves metrics, the cluster-internal data API and probes, and no public port.
func TestManagerDeployment(t *testing.T) {
	objs := build(t)
	d := component(t, objs, "manager")
	pod := d.Spec.Template.Spec
	c := onlyContainer(t, pod)
	o := manager.DefaultOptions()
	parseArgs(t, "manager", c.Args, o.BindFlags)
	checkPorts(t, c, map[string]string{"probes": o.ProbeAddr, "metrics": o.MetricsAddr, "data-api": o.DataAPIAddr})
	if targets := servicesOf(t, objs, d); targets["gateway"] || len(targets) != 2 || !targets["metrics"] || !targets["data-api"] {
		t.Errorf("Services reach the manager's ports %v, want metrics and the data API", targets)
	}

	// The root filesystem is read-only, so the store's directory must be a volume,
	// backed by the PersistentVolumeClaim so that data survives a restart.
	pvc := testenv.One[corev1.PersistentVolumeClaim](t, objs, "PersistentVolumeClaim")
	vol := volumeAt(t, pod, c, o.DataDir)
	if vol.PersistentVolumeClaim == nil || vol.PersistentVolumeClaim.ClaimName != pvc.Name {
		t.Errorf("the store directory %s is on volume %+v, want the claim %s", o.DataDir, vol.VolumeSource, pvc.Name)
	}
	if vol := volumeAt(t, pod, c, "/tmp"); vol.EmptyDir == nil {
		t.Errorf("/tmp is on %+v, want an emptyDir", vol.VolumeSource)
	}
	if pod.SecurityContext == nil || pod.SecurityContext.FSGroup == nil || pod.SecurityContext.RunAsUser == nil ||
		*pod.SecurityContext.FSGroup != *pod.SecurityContext.RunAsUser {
		t.Errorf("pod security context %+v: the volume is not writable by the user", pod.SecurityContext)
	}
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("strategy %s: a ReadWriteOnce volume needs Recreate", d.Spec.Strategy.Type)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Error("POD_NAMESPACE is not the pod's namespace: the state key would go to another namespace")
	}
	rules := boundRules(t, objs, pod.ServiceAccountName)
	if !slices.ContainsFunc(rules, func(r boundRule) bool {
		return slices.Contains(r.Resources, "bankconnections") && slices.Contains(r.Verbs, "watch")
	}) {
		t.Errorf("the manager's ServiceAccount %s is not bound to the manager's rules: %+v", pod.ServiceAccountName, rules)
	}
}

// TestGatewayDeployment checks the gateway's Deployment: the gateway subcommand with
// its own flags, its port behind a Service, its own ServiceAccount.
func TestGatewayDeployment(t *testing.T) {
	objs := build(t)
	d := component(t, objs, "gateway")
	pod := d.Spec.Template.Spec
	c := onlyContainer(t, pod)
	if len(c.Args) == 0 || c.Args[0] != "gateway" {
		t.Fatalf("gateway arguments %q do not start with the gateway subcommand", c.Args)
	}
	o := manager.DefaultGatewayOptions()
	parseArgs(t, "gateway", c.Args[1:], o.BindFlags)
	checkPorts(t, c, map[string]string{"gateway": o.Addr, "probes": o.ProbeAddr, "metrics": o.MetricsAddr})
	if targets := servicesOf(t, objs, d); !targets["gateway"] {
		t.Error("no Service reaches the gateway: users cannot follow connect links")
	}
	if len(pod.Volumes) != 0 {
		t.Errorf("the gateway mounts volumes %+v; it is stateless", pod.Volumes)
	}
	mgr := component(t, objs, "manager")
	if pod.ServiceAccountName == mgr.Spec.Template.Spec.ServiceAccountName {
		t.Errorf("the gateway runs as the manager's ServiceAccount %s", pod.ServiceAccountName)
	}
}

// TestGatewayHoldsNoSecretRights: the internet-facing gateway's ServiceAccount may read
// its journey key by name in the operator's namespace and no other Secret, and write
// nothing but status and events.
func TestGatewayHoldsNoSecretRights(t *testing.T) {
	objs := build(t)
	sa := component(t, objs, "gateway").Spec.Template.Spec.ServiceAccountName
	rules := boundRules(t, objs, sa)
	if len(rules) == 0 {
		t.Fatalf("nothing is bound to the gateway's ServiceAccount %s", sa)
	}
	key := manager.DefaultGatewayOptions().StateKeySecret
	for _, r := range rules {
		for _, res := range r.Resources {
			switch {
			case res == "secrets":
				if !slices.Equal(r.ResourceNames, []string{key}) || !onlyVerbs(r.Verbs, "get", "list", "watch") || !r.namespaced {
					t.Errorf("gateway Secret rule %+v: want get/list/watch on %s only, in a Role of %s", r.PolicyRule, key, namespace)
				}
			case res == "bankconnections/status" || res == "syncjobs/status":
				if !onlyVerbs(r.Verbs, "patch") {
					t.Errorf("gateway rule %+v: status is only patched", r.PolicyRule)
				}
			case res == "bankconnections" || res == "syncjobs":
				if !onlyVerbs(r.Verbs, "get", "list", "watch") {
					t.Errorf("gateway rule %+v: specs are read-only to the gateway", r.PolicyRule)
				}
			case res == "events":
				if !onlyVerbs(r.Verbs, "create", "patch") {
					t.Errorf("gateway rule %+v", r.PolicyRule)
				}
			case res == "tokenreviews" || res == "subjectaccessreviews":
				if !onlyVerbs(r.Verbs, "create") {
					t.Errorf("gateway rule %+v", r.PolicyRule)
				}
			default:
				t.Errorf("gateway rule %+v grants %s, which the gateway does not need", r.PolicyRule, res)
			}
		}
	}
}

// boundRule is a rule bound to a subject, and whether a namespaced Role holds it.
type boundRule struct {
	rbacv1.PolicyRule
	namespaced bool
}

// boundRules returns every rule bound to the ServiceAccount sa of the operator's namespace.
func boundRules(t *testing.T, objs []*unstructured.Unstructured, sa string) []boundRule {
	t.Helper()
	roles := map[string][]rbacv1.PolicyRule{}
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, u := range testenv.Find(objs, kind) {
			r := testenv.One[rbacv1.ClusterRole](t, []*unstructured.Unstructured{withKind(u, "ClusterRole")}, "ClusterRole")
			roles[kind+"/"+u.GetName()] = r.Rules
		}
	}
	var out []boundRule
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, u := range testenv.Find(objs, kind) {
			b := testenv.One[rbacv1.ClusterRoleBinding](t, []*unstructured.Unstructured{withKind(u, "ClusterRoleBinding")}, "ClusterRoleBinding")
			if !slices.ContainsFunc(b.Subjects, func(s rbacv1.Subject) bool {
				return s.Kind == rbacv1.ServiceAccountKind && s.Name == sa && s.Namespace == namespace
			}) {
				continue
			}
			for _, rule := range roles[b.RoleRef.Kind+"/"+b.RoleRef.Name] {
				out = append(out, boundRule{PolicyRule: rule, namespaced: b.RoleRef.Kind == "Role"})
			}
		}
	}
	return out
}

// withKind is u as another kind of the same shape (a Role as a ClusterRole), so one
// conversion reads both.
func withKind(u *unstructured.Unstructured, kind string) *unstructured.Unstructured {
	c := u.DeepCopy()
	c.SetKind(kind)
	c.SetNamespace("")
	return c
}

func onlyVerbs(verbs []string, allowed ...string) bool {
	for _, v := range verbs {
		if !slices.Contains(allowed, v) {
			return false
		}
	}
	return len(verbs) > 0
}

// TestDryRunOnAPIServer applies every object with dryRun=All: schemas, defaulting and
// admission run, nothing is stored.
func TestDryRunOnAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	objs := build(t)
	// Namespaced objects need their namespace to exist, even in a dry run.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if err := env.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	// A control: the apply must refuse what the apiserver cannot accept.
	bad := testenv.Find(objs, "Deployment")[0].DeepCopy()
	if err := unstructured.SetNestedField(bad.Object, "sometimes", "spec", "strategy", "type"); err != nil {
		t.Fatal(err)
	}
	if err := env.DryRunApply(ctx, bad); err == nil {
		t.Fatal("apiserver accepted a Deployment with an unknown strategy")
	}
	for _, o := range objs {
		if err := env.DryRunApply(ctx, o); err != nil {
			t.Errorf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	var list appsv1.DeploymentList
	if err := env.Client.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Errorf("the dry run stored %d Deployments", len(list.Items))
	}
}

// volumeAt is the pod volume mounted at path in c.
func volumeAt(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) corev1.Volume {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name {
				return v
			}
		}
		t.Fatalf("mount %s names no volume", m.Name)
	}
	t.Fatalf("nothing is mounted at %s", path)
	return corev1.Volume{}
}
