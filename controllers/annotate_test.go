package controllers_test

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// annotate merge-patches obj's annotations: each key of set takes its value, and a
// key whose value is "" is removed. Tests drive the controllers through annotations
// (run and refresh requests, pokes, delete options) the way users do.
func annotate(t *testing.T, obj client.Object, set map[string]string) {
	t.Helper()
	patch := client.MergeFrom(obj.DeepCopyObject().(client.Object))
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	for k, v := range set {
		if v == "" {
			delete(annotations, k)
			continue
		}
		annotations[k] = v
	}
	obj.SetAnnotations(annotations)
	if err := env.Client.Patch(context.Background(), obj, patch); err != nil {
		t.Fatalf("annotating %s: %v", obj.GetName(), err)
	}
}
