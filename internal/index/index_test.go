package index

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

func TestField(t *testing.T) {
	job := func(conn string) *bankingv1alpha1.SyncJob {
		sj := &bankingv1alpha1.SyncJob{}
		sj.Spec.ConnectionRef.Name = conn
		return sj
	}
	cases := []struct {
		name string
		obj  client.Object
		want []string
	}{
		{name: "indexed under its value", obj: job("alice"), want: []string{"alice"}},
		{name: "empty value: not indexed", obj: job("")},
		{name: "another kind: not indexed", obj: &corev1.Secret{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := SyncJobConnectionOf(tc.obj); !slices.Equal(got, tc.want) {
				t.Fatalf("SyncJobConnectionOf = %q, want %q", got, tc.want)
			}
		})
	}
}
