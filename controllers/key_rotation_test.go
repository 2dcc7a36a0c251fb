package controllers_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestJourneyKeyRotation: the journey key rotates by editing its Secret, without a
// restart, while a user is at the bank: that journey still completes, and journeys
// started afterwards use the new key.
func TestJourneyKeyRotation(t *testing.T) {
	ctx := context.Background()
	inFlight := pendingConnection(t, "rotate", "ivy")
	b := testenv.NewBrowser()
	provider := toProvider(t, b, inFlight.Status.ConnectURL)

	newKey := bytes.Repeat([]byte("n"), 32)
	newKeys, err := journey.NewKeys(newKey)
	if err != nil {
		t.Fatal(err)
	}
	rotateJourneyKey(t, newKey)

	// A journey started now uses the new key (the operator reloaded it without a restart).
	fresh := newConnection(inFlight.Namespace, "jack")
	create(t, fresh)
	testenv.Eventually(t, 30*time.Second, func() error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(fresh), fresh); err != nil {
			return err
		}
		if a := fresh.Status.Authorization; a == nil || a.KeyID != newKeys.ID() {
			return fmt.Errorf("journey %+v not started with the new key %s", fresh.Status.Authorization, newKeys.ID())
		}
		return nil
	})
	if inFlight.Status.Authorization.KeyID == newKeys.ID() {
		t.Fatal("the in-flight journey already used the new key")
	}

	// The journey in flight completes with the state and verifier of the old key.
	atBank(t, b, provider)
	waitFor(t, inFlight, isReady)
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(inFlight), inFlight); err != nil {
		t.Fatal(err)
	}
	if j := inFlight.Status.LastJourney; j == nil || j.Result != bankingv1alpha1.JourneyConnected {
		t.Fatalf("in-flight journey: %+v", inFlight.Status.LastJourney)
	}
	// And so does the new one.
	consentJourney(t, fresh, "doe")
	waitFor(t, fresh, isReady)
}

// journeyKeyRef is the Secret holding the journey keys the suite's operator reads.
var journeyKeyRef = types.NamespacedName{Namespace: "default", Name: "consent-operator-state-key"}

// rotateJourneyKey rotates the journey key to newKey by editing its Secret. Step 1:
// every replica accepts the new key; step 2: it becomes current, the old one stays
// accepted for the journeys in flight.
func rotateJourneyKey(t *testing.T, newKey []byte) {
	t.Helper()
	sec := &corev1.Secret{}
	if err := env.Client.Get(context.Background(), journeyKeyRef, sec); err != nil {
		t.Fatal(err)
	}
	oldKey := sec.Data["state-key"]
	updateJourneyKeys(t, func(d map[string][]byte) { d["state-key-next"] = newKey })
	updateJourneyKeys(t, func(d map[string][]byte) {
		d["state-key"], d["state-key-previous"] = newKey, oldKey
		delete(d, "state-key-next")
	})
}

// updateJourneyKeys patches the journey key Secret's data as mutate changes it.
func updateJourneyKeys(t *testing.T, mutate func(data map[string][]byte)) {
	t.Helper()
	ctx := context.Background()
	sec := &corev1.Secret{}
	if err := env.Client.Get(ctx, journeyKeyRef, sec); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(sec.DeepCopy())
	mutate(sec.Data)
	if err := env.Client.Patch(ctx, sec, patch); err != nil {
		t.Fatal(err)
	}
}
