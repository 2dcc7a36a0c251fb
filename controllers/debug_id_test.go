package controllers_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

func requestDebugID(t *testing.T, obj client.Object, value string) {
	t.Helper()
	patch := []byte(fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, bankingv1alpha1.AnnotationDebugIDRequestedAt, value))
	if err := env.Client.Patch(context.Background(), obj, client.RawPatch("application/merge-patch+json", patch)); err != nil {
		t.Fatal(err)
	}
}

// TestDebugIDAnnotation: the debug-id-requested-at annotation gets the provider's
// debug id (TrueLayer POST /api/debug) into status.debug and an event, once per
// value; TrueLayer's support (the sandbox) traces the id to the connection.
func TestDebugIDAnnotation(t *testing.T) {
	ns := newNamespace(t, "debugid")
	bc := readyConnection(t, ns, "zoe")
	connID := connectionID(t, bc)
	requestDebugID(t, bc, "ticket-1")
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if d := bc.Status.Debug; d == nil || d.RequestedAt != "ticket-1" || d.ID == "" {
			return fmt.Errorf("status.debug %+v", bc.Status.Debug)
		}
		return nil
	})
	first := bc.Status.Debug.ID
	if got, ok := sb.DebugIDConnection(first); !ok || got != connID {
		t.Fatalf("debug id %q traces to %q (%v), want %s", first, got, ok, connID)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		evs := &eventsv1.EventList{}
		if err := env.Client.List(context.Background(), evs, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range evs.Items {
			if e.Reason == "DebugID" && strings.Contains(e.Note, first) {
				return nil
			}
		}
		return fmt.Errorf("no DebugID event naming %s", first)
	})
	assertQuiet(t, bc) // answered: no second call for the same value

	requestDebugID(t, bc, "ticket-2")
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if d := bc.Status.Debug; d == nil || d.RequestedAt != "ticket-2" || d.ID == "" || d.ID == first {
			return fmt.Errorf("status.debug %+v", bc.Status.Debug)
		}
		return nil
	})
}
