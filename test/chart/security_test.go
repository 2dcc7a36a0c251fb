package chart_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/consent-operator/consent-operator/internal/testenv"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// typed converts a rendered object into a typed value, refusing unknown fields.
func typed[T any](t testing.TB, o *unstructured.Unstructured) *T {
	t.Helper()
	var out T
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(o.Object, &out, true); err != nil {
		t.Fatalf("converting %s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return &out
}

func named(t testing.TB, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range testenv.Find(objs, kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
	return nil
}

// suffixed returns the rendered object of kind whose name ends in suffix (the chart
// prefixes names with the release's fullname), converted to T.
func suffixed[T any](t testing.TB, objs []*unstructured.Unstructured, kind, suffix string) *T {
	t.Helper()
	var found *unstructured.Unstructured
	for _, o := range testenv.Find(objs, kind) {
		if strings.HasSuffix(o.GetName(), suffix) {
			found = o
		}
	}
	if found == nil {
		t.Fatalf("no %s *%s rendered", kind, suffix)
	}
	return typed[T](t, found)
}

// configRole reads a ClusterRole of config/rbac, the roles the chart's must match.
func configRole(t testing.TB, elem ...string) rbacv1.ClusterRole {
	t.Helper()
	path := filepath.Join(append([]string{"config", "rbac"}, elem...)...)
	data, err := os.ReadFile(repoPath(t, path))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return role
}

func mustRenderWith(t testing.TB, files []string, overrides map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := renderChart(t, files, overrides)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

var serviceMonitorOn = map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"enabled": true}}}

// The ServiceMonitor scrapes over HTTPS with a token the metrics endpoint can review:
// Prometheus' own ServiceAccount token by default, or a token Secret; the server
// certificate is verified when the chart was given one.
func TestServiceMonitorScrapesWithATokenOverTLS(t *testing.T) {
	const saToken = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	tests := []struct {
		name      string
		files     []string
		overrides map[string]any
		want      map[string]any // endpoint fields
		absent    []string
	}{
		{
			name: "certificate from a Secret", files: []string{productionValues},
			want: map[string]any{
				"scheme": "https", "bearerTokenFile": saToken,
				"tlsConfig": map[string]any{
					"ca":         map[string]any{"secret": map[string]any{"name": "consent-operator-metrics-tls", "key": "ca.crt"}},
					"serverName": "consent-operator-metrics.consent-operator-system.svc",
				},
			},
			absent: []string{"authorization"},
		},
		{
			name: "self-signed certificate", overrides: serviceMonitorOn,
			want: map[string]any{
				"scheme": "https", "bearerTokenFile": saToken,
				"tlsConfig": map[string]any{"insecureSkipVerify": true},
			},
			absent: []string{"authorization"},
		},
		{
			name: "token from a Secret", files: []string{productionValues},
			overrides: map[string]any{"metrics": map[string]any{"serviceMonitor": map[string]any{"tokenSecret": map[string]any{"name": "prometheus-token"}}}},
			want: map[string]any{
				"scheme":        "https",
				"authorization": map[string]any{"type": "Bearer", "credentials": map[string]any{"name": "prometheus-token", "key": "token"}},
			},
			absent: []string{"bearerTokenFile"},
		},
		{
			name: "insecure metrics", overrides: map[string]any{"metrics": map[string]any{"secure": false, "serviceMonitor": map[string]any{"enabled": true}}},
			want:   map[string]any{"scheme": "http"},
			absent: []string{"bearerTokenFile", "authorization", "tlsConfig"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := mustRenderWith(t, tt.files, tt.overrides)
			sm := testenv.One[unstructured.Unstructured](t, objs, "ServiceMonitor")
			endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
			if len(endpoints) != 1 {
				t.Fatalf("%d endpoints", len(endpoints))
			}
			ep := endpoints[0].(map[string]any)
			for k, want := range tt.want {
				if got := ep[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("endpoint %s = %v, want %v", k, got, want)
				}
			}
			for _, k := range tt.absent {
				if v, ok := ep[k]; ok {
					t.Errorf("endpoint has %s: %v", k, v)
				}
			}
			// The verified name is the metrics Service's, and the scraped port is the
			// container port the manager serves on with the matching --metrics-secure.
			svc := named(t, objs, "Service", "consent-operator-metrics")
			if sn, ok, _ := unstructured.NestedString(ep, "tlsConfig", "serverName"); ok && !strings.HasPrefix(sn, svc.GetName()+"."+svc.GetNamespace()+".") {
				t.Errorf("serverName %s is not the Service %s", sn, svc.GetName())
			}
			d := managerDeployment(t, objs)
			c := managerContainer(t, d)
			secure, _ := arg(c, "--metrics-secure")
			if want := fmt.Sprint(tt.want["scheme"] == "https"); secure != want {
				t.Errorf("--metrics-secure=%s, want %s", secure, want)
			}
			if bind, _ := arg(c, "--metrics-bind-address"); bind != ":8443" {
				t.Errorf("--metrics-bind-address=%s", bind)
			}
			if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "metrics" && p.ContainerPort == 8443 }) {
				t.Errorf("no metrics container port 8443: %+v", c.Ports)
			}
		})
	}
}

// A certificate Secret is mounted where --metrics-cert-path points.
func TestMetricsCertificateIsMounted(t *testing.T) {
	d := managerDeployment(t, mustRender(t, productionValues))
	c := managerContainer(t, d)
	path, ok := arg(c, "--metrics-cert-path")
	if !ok {
		t.Fatal("no --metrics-cert-path")
	}
	var mounted bool
	for _, m := range c.VolumeMounts {
		if m.MountPath != path {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == "consent-operator-metrics-tls" && m.ReadOnly {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("consent-operator-metrics-tls is not mounted read-only at %s", path)
	}
	if _, ok := arg(managerContainer(t, managerDeployment(t, mustRender(t))), "--metrics-cert-path"); ok {
		t.Error("--metrics-cert-path without a certificate Secret")
	}
}

// The chart's metrics-reader ClusterRole grants what config/rbac/metrics_reader_role.yaml
// does (the role the envtest test of the endpoint binds), and is bound only to the
// subjects the values name.
func TestMetricsReaderClusterRole(t *testing.T) {
	want := configRole(t, "metrics_reader_role.yaml")
	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.files...)
			role := typed[rbacv1.ClusterRole](t, named(t, objs, "ClusterRole", "consent-operator-metrics-reader"))
			if !reflect.DeepEqual(role.Rules, want.Rules) {
				t.Errorf("rules %+v, want %+v", role.Rules, want.Rules)
			}
			var bindings []*rbacv1.ClusterRoleBinding
			for _, o := range testenv.Find(objs, "ClusterRoleBinding") {
				if b := typed[rbacv1.ClusterRoleBinding](t, o); b.RoleRef.Name == role.Name {
					bindings = append(bindings, b)
				}
			}
			if vs.files == nil {
				if len(bindings) != 0 {
					t.Errorf("default values bind metrics-reader: %+v", bindings)
				}
				return
			}
			wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "kube-prometheus-stack-prometheus", Namespace: "monitoring"}}
			if len(bindings) != 1 || !reflect.DeepEqual(bindings[0].Subjects, wantSubjects) {
				t.Errorf("bindings %+v, want one to %+v", bindings, wantSubjects)
			}
		})
	}
}

// portKey names a NetworkPolicy port as protocol/port.
func portKey(p networkingv1.NetworkPolicyPort) string {
	proto := "TCP"
	if p.Protocol != nil {
		proto = string(*p.Protocol)
	}
	return proto + "/" + p.Port.String()
}

func ruleTo(peers []networkingv1.NetworkPolicyPeer) string {
	var out []string
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			out = append(out, p.IPBlock.CIDR)
		default:
			b, _ := yaml.Marshal(p)
			out = append(out, strings.Join(strings.Fields(string(b)), " "))
		}
	}
	return strings.Join(out, ",")
}

// policies returns the rendered NetworkPolicies by name, checking each selects the
// pods of its component's Deployment (consent-operator-<component>).
func policies(t *testing.T, objs []*unstructured.Unstructured) map[string]*networkingv1.NetworkPolicy {
	t.Helper()
	out := map[string]*networkingv1.NetworkPolicy{}
	for _, o := range testenv.Find(objs, "NetworkPolicy") {
		np := typed[networkingv1.NetworkPolicy](t, o)
		d := componentDeployment(t, objs, strings.TrimPrefix(np.Name, "consent-operator-"))
		if !reflect.DeepEqual(np.Spec.PodSelector.MatchLabels, d.Spec.Selector.MatchLabels) {
			t.Errorf("%s selects %v, not the Deployment's pods %v", np.Name, np.Spec.PodSelector.MatchLabels, d.Spec.Selector.MatchLabels)
		}
		if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
			t.Errorf("%s policyTypes %v, want Ingress and Egress", np.Name, np.Spec.PolicyTypes)
		}
		// A rule without ports opens every port: each one must name its ports, and
		// each named ingress port must be a port of the manager container.
		for _, r := range np.Spec.Ingress {
			if len(r.Ports) == 0 {
				t.Errorf("%s: an ingress rule opens every port: %+v", np.Name, r)
			}
			for _, p := range r.Ports {
				if !slices.ContainsFunc(d.Spec.Template.Spec.Containers[0].Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.Port.String() }) {
					t.Errorf("%s: ingress port %s is no container port", np.Name, p.Port)
				}
			}
		}
		for _, r := range np.Spec.Egress {
			if len(r.Ports) == 0 {
				t.Errorf("%s: an egress rule opens every port: %+v", np.Name, r)
			}
		}
		out[np.Name] = np
	}
	return out
}

// ingressRules and egressRules flatten a policy's rules into "protocol/port -> peers",
// joining with " | " the rules that open the same port; "any" is a rule without peers.
func ingressRules(np *networkingv1.NetworkPolicy) map[string]string {
	out := map[string]string{}
	for _, r := range np.Spec.Ingress {
		addRule(out, r.Ports, r.From)
	}
	return out
}

func egressRules(np *networkingv1.NetworkPolicy) map[string]string {
	out := map[string]string{}
	for _, r := range np.Spec.Egress {
		addRule(out, r.Ports, r.To)
	}
	return out
}

func addRule(out map[string]string, ports []networkingv1.NetworkPolicyPort, peers []networkingv1.NetworkPolicyPeer) {
	to := ruleTo(peers)
	if to == "" {
		to = "any"
	}
	for _, p := range ports {
		if prev, ok := out[portKey(p)]; ok {
			out[portKey(p)] = prev + " | " + to
		} else {
			out[portKey(p)] = to
		}
	}
}

const (
	monitoringPeer = "namespaceSelector: matchLabels: kubernetes.io/metadata.name: monitoring podSelector: matchLabels: app.kubernetes.io/name: prometheus"
	dataAPIPeer    = "namespaceSelector: matchLabels: banking.consent-operator.dev/data-api: allowed"
	dnsPeer        = "namespaceSelector: matchLabels: kubernetes.io/metadata.name: kube-system podSelector: matchLabels: k8s-app: kube-dns"
)

// NetworkPolicies are on by default. The manager's pod is reachable only on metrics
// (from Prometheus in the monitoring namespace), the data API (from its peers) and
// probes, and reaches only the apiserver, DNS, the providers over HTTPS, (PostgreSQL)
// the database and (unless notifications are off) applications' notification URLs.
// The gateway's pods are reachable on the gateway port from anyone, metrics from the
// same scrapers and probes, and reach the apiserver, DNS and, over HTTPS, the
// providers' JWKS; never the database.
func TestNetworkPolicies(t *testing.T) {
	tests := []struct {
		name           string
		files          []string
		overrides      map[string]any
		managerIngress map[string]string
		managerEgress  map[string]string
		gatewayEgress  map[string]string
	}{
		{
			name:           "defaults",
			managerIngress: map[string]string{"TCP/metrics": monitoringPeer, "TCP/data-api": dataAPIPeer, "TCP/probes": "any"},
			managerEgress: map[string]string{
				"TCP/443": "any | 0.0.0.0/0,::/0 | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
			},
			gatewayEgress: map[string]string{"TCP/443": "any | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer},
		},
		{
			name:           "production",
			files:          []string{productionValues},
			managerIngress: map[string]string{"TCP/metrics": monitoringPeer, "TCP/data-api": dataAPIPeer, "TCP/probes": "any"},
			managerEgress: map[string]string{
				"TCP/443": "10.0.0.1/32", "TCP/6443": "10.0.0.1/32", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
				"TCP/3128": "192.0.2.10/32", "TCP/5432": "10.20.0.0/16",
				"TCP/8443": `namespaceSelector: matchLabels: banking.consent-operator.dev/notifications: "true"`,
			},
			gatewayEgress: map[string]string{"TCP/443": "10.0.0.1/32", "TCP/6443": "10.0.0.1/32", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
				"TCP/3128": "192.0.2.10/32"}, // the providers' JWKS, through the same proxy
		},
		{
			name:           "metrics off, monitoring elsewhere",
			overrides:      map[string]any{"metrics": map[string]any{"enabled": false}},
			managerIngress: map[string]string{"TCP/data-api": dataAPIPeer, "TCP/probes": "any"},
			managerEgress: map[string]string{
				"TCP/443": "any | 0.0.0.0/0,::/0 | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
			},
			gatewayEgress: map[string]string{"TCP/443": "any | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer},
		},
		{
			name:           "notifications off",
			overrides:      map[string]any{"manager": map[string]any{"notifications": map[string]any{"workers": 0}}},
			managerIngress: map[string]string{"TCP/metrics": monitoringPeer, "TCP/data-api": dataAPIPeer, "TCP/probes": "any"},
			managerEgress: map[string]string{
				"TCP/443": "any | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
			},
			gatewayEgress: map[string]string{"TCP/443": "any | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer},
		},
		{
			name: "scrapers in the release namespace",
			overrides: map[string]any{"networkPolicy": map[string]any{"metrics": map[string]any{
				"namespaceSelector": nil, "podSelector": map[string]any{"matchLabels": map[string]any{"app.kubernetes.io/name": "agent"}},
				"from": []any{map[string]any{"ipBlock": map[string]any{"cidr": "10.9.0.0/16"}}},
			}}},
			managerIngress: map[string]string{"TCP/metrics": "podSelector: matchLabels: app.kubernetes.io/name: agent,10.9.0.0/16", "TCP/data-api": dataAPIPeer, "TCP/probes": "any"},
			managerEgress: map[string]string{
				"TCP/443": "any | 0.0.0.0/0,::/0 | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer,
			},
			gatewayEgress: map[string]string{"TCP/443": "any | 0.0.0.0/0,::/0", "TCP/6443": "any", "UDP/53": dnsPeer, "TCP/53": dnsPeer},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nps := policies(t, mustRenderWith(t, tt.files, tt.overrides))
			if len(nps) != 2 {
				t.Fatalf("policies %v, want the manager's and the gateway's", slices.Collect(maps.Keys(nps)))
			}
			manager, gateway := nps["consent-operator-manager"], nps["consent-operator-gateway"]
			if manager == nil || gateway == nil {
				t.Fatalf("policies %v", slices.Collect(maps.Keys(nps)))
			}
			if got := ingressRules(manager); !reflect.DeepEqual(got, tt.managerIngress) {
				t.Errorf("manager ingress\n got %v\nwant %v", got, tt.managerIngress)
			}
			if got := egressRules(manager); !reflect.DeepEqual(got, tt.managerEgress) {
				t.Errorf("manager egress\n got %v\nwant %v", got, tt.managerEgress)
			}
			// The gateway takes the same scrapers and probes, its own port, and no data API.
			wantGateway := maps.Clone(tt.managerIngress)
			delete(wantGateway, "TCP/data-api")
			wantGateway["TCP/gateway"] = "any"
			if got := ingressRules(gateway); !reflect.DeepEqual(got, wantGateway) {
				t.Errorf("gateway ingress\n got %v\nwant %v", got, wantGateway)
			}
			if got := egressRules(gateway); !reflect.DeepEqual(got, tt.gatewayEgress) {
				t.Errorf("gateway egress\n got %v\nwant %v", got, tt.gatewayEgress)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		objs := mustRenderWith(t, nil, map[string]any{"networkPolicy": map[string]any{"enabled": false}})
		if n := len(testenv.Find(objs, "NetworkPolicy")); n != 0 {
			t.Errorf("%d NetworkPolicies with networkPolicy.enabled=false", n)
		}
	})
}

// A metrics rule with no peer would admit every pod; the chart refuses to render it.
func TestNetworkPolicyRefusesAnOpenMetricsRule(t *testing.T) {
	_, err := renderChart(t, nil, map[string]any{"networkPolicy": map[string]any{"metrics": map[string]any{
		"namespaceSelector": nil, "podSelector": nil,
	}}})
	if err == nil || !strings.Contains(err.Error(), "networkPolicy.metrics needs") {
		t.Fatalf("error %v, want networkPolicy.metrics needs…", err)
	}
}
