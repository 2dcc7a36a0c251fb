package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// patchStatus writes the fields of obj's status that differ from before's, and
// nothing when none do. It is a merge patch without an optimistic lock: the fields a
// reconcile computed are its own, while fields it did not touch (the gateway's
// authorization claim, the SyncJob controller's call ledger) are left as they are.
// Decisions with side effects at a provider are protected separately (confirmFresh,
// the token Secret's in-flight marker), so a stale cache cannot cause a second call,
// and a conflict can no longer discard what such a call changed.
func patchStatus[T client.Object](ctx context.Context, c client.Client, before, obj T, status func(T) any) error {
	if equality.Semantic.DeepEqual(status(before), status(obj)) {
		return nil
	}
	if err := c.Status().Patch(ctx, obj, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patching status: %w", err)
	}
	return nil
}
