package chart_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/consent-operator/consent-operator/internal/testenv"
)

// env is the kube-apiserver (v1.36, from bin/k8s) the dry runs go to.
var env *testenv.Env

func TestMain(m *testing.M) {
	testenv.Main(m, &env, installMonitoringCRDs)
}

// installMonitoringCRDs installs trimmed monitoring.coreos.com CRDs (testdata) so that
// ServiceMonitor and PrometheusRule are checked against a schema too.
func installMonitoringCRDs(e *testenv.Env) (func(), error) {
	if _, err := envtest.InstallCRDs(e.Config, envtest.CRDInstallOptions{
		Paths:              []string{"testdata/monitoring-crds.yaml"},
		ErrorIfPathMissing: true,
	}); err != nil {
		return nil, fmt.Errorf("installing monitoring CRDs: %w", err)
	}
	return func() {}, nil
}

func TestDryRunOnAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: releaseNamespace}}
	if err := env.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	// A control: the same apply must refuse an object the apiserver cannot accept,
	// or the dry runs below would prove nothing.
	t.Run("control: an unknown field is refused", func(t *testing.T) {
		bad := mustRender(t)
		sa := testenv.Find(bad, "ServiceAccount")[0].DeepCopy()
		sa.Object["secretz"] = []any{}
		if err := env.DryRunApply(ctx, sa); err == nil {
			t.Fatal("apiserver accepted a ServiceAccount with an unknown field")
		}
	})

	for _, vs := range valueSets {
		t.Run(vs.name, func(t *testing.T) {
			objs := mustRender(t, vs.files...)
			for _, obj := range objs {
				if err := env.DryRunApply(ctx, obj); err != nil {
					t.Errorf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
				}
			}
			// Nothing was stored: the dry run must not leave the Deployment behind.
			var list unstructured.UnstructuredList
			list.SetAPIVersion("apps/v1")
			list.SetKind("DeploymentList")
			if err := env.Client.List(ctx, &list); err != nil {
				t.Fatal(err)
			}
			if len(list.Items) != 0 {
				t.Errorf("dry run stored %d Deployments", len(list.Items))
			}
		})
	}
}
