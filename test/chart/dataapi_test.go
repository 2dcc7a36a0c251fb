package chart_test

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/consent-operator/consent-operator/internal/testenv"
)

// The data API ships as a ClusterIP Service whose port data-api reaches the manager's
// container port data-api (8444, where --data-api-bind-address listens); a
// certificate Secret, when given, is mounted read-only where --data-api-cert-path
// points; disabled, there is no Service, no port and the flag says 0.
func TestDataAPIService(t *testing.T) {
	objs := mustRender(t)
	svc := typed[corev1.Service](t, named(t, objs, "Service", "consent-operator-data-api"))
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || len(svc.Spec.Ports) != 1 {
		t.Fatalf("data API Service: type %s, ports %+v", svc.Spec.Type, svc.Spec.Ports)
	}
	if p := svc.Spec.Ports[0]; p.Name != "data-api" || p.Port != 8444 || p.TargetPort != intstr.FromString("data-api") {
		t.Errorf("data API Service port %+v", p)
	}
	d := managerDeployment(t, objs)
	c := managerContainer(t, d)
	var port int32
	for _, p := range c.Ports {
		if p.Name == "data-api" {
			port = p.ContainerPort
		}
	}
	if bind, _ := arg(c, "--data-api-bind-address"); port != 8444 || bind != ":8444" {
		t.Errorf("container port data-api %d, --data-api-bind-address=%s", port, bind)
	}
	for k, v := range svc.Spec.Selector {
		if d.Spec.Template.Labels[k] != v {
			t.Errorf("the Service selects %s=%s, the manager's pods do not carry it", k, v)
		}
	}
	if _, ok := arg(c, "--data-api-cert-path"); ok {
		t.Error("--data-api-cert-path without a certificate Secret")
	}

	withCert := mustRenderWith(t, nil, map[string]any{"dataAPI": map[string]any{"tls": map[string]any{"secretName": "data-api-tls"}}})
	d = managerDeployment(t, withCert)
	c = managerContainer(t, d)
	path, ok := arg(c, "--data-api-cert-path")
	if !ok {
		t.Fatal("no --data-api-cert-path with tls.secretName")
	}
	if got := readOnlySecretAt(d, c, path); got != "data-api-tls" {
		t.Errorf("%s holds the Secret %q read-only, want data-api-tls", path, got)
	}

	off := mustRenderWith(t, nil, map[string]any{"dataAPI": map[string]any{"enabled": false}})
	for _, o := range testenv.Find(off, "Service") {
		if strings.HasSuffix(o.GetName(), "-data-api") {
			t.Error("a data API Service with dataAPI.enabled=false")
		}
	}
	c = managerContainer(t, managerDeployment(t, off))
	if bind, _ := arg(c, "--data-api-bind-address"); bind != "0" {
		t.Errorf("dataAPI.enabled=false: --data-api-bind-address=%s", bind)
	}
}

// An empty list of data API peers would admit every pod; the chart refuses it.
func TestNetworkPolicyRefusesAnOpenDataAPIRule(t *testing.T) {
	_, err := renderChart(t, nil, map[string]any{"networkPolicy": map[string]any{"dataAPI": map[string]any{"from": []any{}}}})
	if err == nil || !strings.Contains(err.Error(), "dataAPI") {
		t.Fatalf("error %v, want a refusal of the empty data API rule", err)
	}
}

// readOnlySecretAt names the Secret mounted read-only at path, or "".
func readOnlySecretAt(d *appsv1.Deployment, c corev1.Container, path string) string {
	for _, m := range c.VolumeMounts {
		if m.MountPath != path || !m.ReadOnly {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName
			}
		}
	}
	return ""
}
