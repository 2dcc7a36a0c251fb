// Package kustomize_test builds config/default with kustomize's Go API and checks that
// it deploys a working operator: every manager argument is a real flag, the SQLite
// store and /tmp sit on volumes (the root filesystem is read-only), the gateway has a
// port and a Service, and every object passes a server-side dry run on a real
// kube-apiserver.
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
	want := map[string]int{"Namespace": 1, "CustomResourceDefinition": 2, "ServiceAccount": 1, "ClusterRole": 2,
		"ClusterRoleBinding": 1, "Role": 1, "RoleBinding": 1, "Deployment": 1, "Service": 3, "PersistentVolumeClaim": 1,
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

// TestManagerDeployment checks the Deployment against the manager's own flags.
func TestManagerDeployment(t *testing.T) {
	objs := build(t)
	d := testenv.One[appsv1.Deployment](t, objs, "Deployment")
	pod := d.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]

	// Every argument is a flag of the manager (a typo would crash-loop the pod).
	o := manager.DefaultOptions()
	fs := flag.NewFlagSet("consent-operator", flag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse(c.Args); err != nil {
		t.Fatalf("manager arguments %q: %v", c.Args, err)
	}
	if fs.NArg() != 0 {
		t.Fatalf("stray arguments %q", fs.Args())
	}

	// The root filesystem is read-only, so the store's directory must be a volume,
	// backed by the PersistentVolumeClaim so that data survives a restart.
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("the root filesystem is not read-only")
	}
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

	// The gateway, probes, metrics and the data API listen on the ports the Deployment declares,
	// and the Services reach them.
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, addr := range map[string]string{"gateway": o.GatewayAddr, "probes": o.ProbeAddr, "metrics": o.MetricsAddr, "data-api": o.DataAPIAddr} {
		_, port, err := net.SplitHostPort(addr)
		if err != nil || port != strconv.Itoa(int(ports[name])) {
			t.Errorf("%s listens on %q, the container port %q is %d", name, addr, name, ports[name])
		}
	}
	for _, p := range []*corev1.Probe{c.ReadinessProbe, c.LivenessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Port.StrVal != "probes" {
			t.Errorf("probe %+v does not use the probes port", p)
		}
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	services := map[string]bool{}
	for _, u := range testenv.Find(objs, "Service") {
		svc := testenv.One[corev1.Service](t, []*unstructured.Unstructured{u}, "Service")
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) {
			t.Errorf("Service %s selects %v, the pods have %v", svc.Name, svc.Spec.Selector, podLabels)
		}
		for _, p := range svc.Spec.Ports {
			if _, ok := ports[p.TargetPort.StrVal]; !ok {
				t.Errorf("Service %s targets port %q, which the container does not have", svc.Name, p.TargetPort.StrVal)
			}
			services[p.TargetPort.StrVal] = true
		}
	}
	if !services["gateway"] {
		t.Error("no Service reaches the gateway: users cannot follow connect links")
	}
	if !services["data-api"] {
		t.Error("no Service reaches the data API: applications cannot read their users' data")
	}

	// The pod runs as the ServiceAccount the RBAC binds.
	sa := testenv.One[corev1.ServiceAccount](t, objs, "ServiceAccount")
	if pod.ServiceAccountName != sa.Name {
		t.Errorf("pod ServiceAccount %s, want %s", pod.ServiceAccountName, sa.Name)
	}
	crb := testenv.One[rbacv1.ClusterRoleBinding](t, objs, "ClusterRoleBinding")
	rb := testenv.One[rbacv1.RoleBinding](t, objs, "RoleBinding")
	for _, subjects := range [][]rbacv1.Subject{crb.Subjects, rb.Subjects} {
		if len(subjects) != 1 || subjects[0].Name != sa.Name || subjects[0].Namespace != namespace {
			t.Errorf("binding subjects %+v, want ServiceAccount %s/%s", subjects, namespace, sa.Name)
		}
	}
	// The manager's ClusterRole, and the metrics-reader role that scrapers are bound to
	// (read-only, on /metrics only).
	roles := map[string]bool{}
	for _, o := range testenv.Find(objs, "ClusterRole") {
		roles[o.GetName()] = true
	}
	if !roles[crb.RoleRef.Name] {
		t.Errorf("ClusterRoleBinding refers to %s, not one of the ClusterRoles %v", crb.RoleRef.Name, roles)
	}
	if len(roles) != 2 {
		t.Errorf("ClusterRoles %v, want the manager's and metrics-reader", roles)
	}
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
