package controllers

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/consent"
	"github.com/consent-operator/consent-operator/internal/gateway"
	"github.com/consent-operator/consent-operator/internal/provider"
	providerfake "github.com/consent-operator/consent-operator/internal/provider/fake"
	"github.com/consent-operator/consent-operator/internal/sandbox/clock"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// revokeCase is one deletion's revocation: the connection, what the provider
// answers, and what revoke should do.
type revokeCase struct {
	name       string
	bc         *bankingv1alpha1.BankConnection
	tokens     bool  // a token Secret holds tokens
	revokeErr  error // the provider's answer
	now        time.Time
	wantCalls  int
	wantDone   bool
	wantResult time.Duration
	check      func(t *testing.T, calls []providerfake.Call)
}

// revokeByKindCases are the revocations of each kind of consent, kept and held.
func revokeByKindCases() []revokeCase {
	deleted := metav1.NewTime(policyNow.Add(-time.Minute))
	outage := &provider.Error{Class: provider.ClassRetryLater, Op: "revoke", Status: 503}
	conn := func(p bankingv1alpha1.Provider, api bankingv1alpha1.DataAPI, clientSecret string) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "alice", UID: "u1",
			DeletionTimestamp: &deleted, Annotations: map[string]string{}}}
		bc.Spec.Provider, bc.Spec.DataAPI, bc.Spec.ClientSecretRef.Name = p, api, clientSecret
		return bc
	}
	codat := func(started, deleteCompany bool) *bankingv1alpha1.BankConnection {
		bc := conn(bankingv1alpha1.ProviderCodat, "", "codat")
		if started {
			bc.Status.ProviderRefs = &bankingv1alpha1.ProviderRefs{CodatCompanyID: "co1", CodatConnectionID: "cx1"}
		}
		if deleteCompany {
			bc.Annotations[bankingv1alpha1.AnnotationCodatDeleteCompany] = "true"
		}
		return bc
	}
	v1 := func(consentState bankingv1alpha1.ConsentState, clientSecret string) *bankingv1alpha1.BankConnection {
		bc := conn(bankingv1alpha1.ProviderTrueLayer, bankingv1alpha1.DataAPIV1, clientSecret)
		if consentState != "" {
			bc.Status.Consent = &bankingv1alpha1.ConsentStatus{Status: consentState}
		}
		return bc
	}
	return []revokeCase{
		{name: "kept, no journey started: nothing at the provider", bc: codat(false, false), now: policyNow, wantDone: true},
		{name: "kept: the company's data connection goes", bc: codat(true, false), now: policyNow, wantCalls: 1, wantDone: true,
			check: func(t *testing.T, calls []providerfake.Call) {
				c := calls[0]
				if c.Conn.Refs.CodatCompanyID != "co1" || c.Conn.CodatDeleteCompany || c.Session.Tokens != nil {
					t.Errorf("revoke called with %+v, session %+v", c.Conn.Refs, c.Session)
				}
			}},
		{name: "kept, codat-delete-company: the company goes", bc: codat(true, true), now: policyNow, wantCalls: 1, wantDone: true,
			check: func(t *testing.T, calls []providerfake.Call) {
				if !calls[0].Conn.CodatDeleteCompany {
					t.Error("the annotation did not reach the provider")
				}
			}},
		{name: "kept, an outage within the deadline is retried", bc: codat(true, false), revokeErr: outage, now: policyNow,
			wantCalls: 1, wantResult: consent.RevokeRetryDelay},
		{name: "kept, an outage past the deadline is given up", bc: codat(true, false), revokeErr: outage, now: deleted.Add(revokeDeadline),
			wantCalls: 1, wantDone: true},
		{name: "held, an expired consent has nothing to revoke", bc: v1(bankingv1alpha1.ConsentExpired, "truelayer"), tokens: true, now: policyNow, wantDone: true},
		{name: "held, never consented: nothing to revoke with", bc: v1(bankingv1alpha1.ConsentPending, "truelayer"), now: policyNow, wantDone: true},
		{name: "held: revoked with the stored access token", bc: v1(bankingv1alpha1.ConsentActive, "truelayer"), tokens: true, now: policyNow,
			wantCalls: 1, wantDone: true, check: func(t *testing.T, calls []providerfake.Call) {
				if s := calls[0].Session; s == nil || s.Tokens == nil || s.Tokens.AccessToken != "at-1" {
					t.Errorf("revoke did not carry the stored access token: %+v", s)
				}
			}},
		{name: "held, the client Secret is gone: given up without a call", bc: v1(bankingv1alpha1.ConsentActive, "gone"), tokens: true, now: policyNow, wantDone: true},
		{name: "held, the provider ended the consent already", bc: v1(bankingv1alpha1.ConsentActive, "truelayer"), tokens: true, now: policyNow,
			revokeErr: &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonConsentRevoked, Op: "revoke", Status: 401}, wantCalls: 1, wantDone: true},
	}
}

// TestRevokeByKind tells the revocation of each kind of consent on deletion against
// the fake provider: what is called, with what, and what deletion does next.
func TestRevokeByKind(t *testing.T) {
	for _, tc := range revokeByKindCases() {
		t.Run(tc.name, func(t *testing.T) {
			fp := &providerfake.Provider{RevokeFn: func(context.Context, provider.Connection, provider.Session) error { return tc.revokeErr }}
			r := revokeReconciler(t, fp, tc.bc, tc.tokens, tc.now)
			res, done, err := r.revoke(context.Background(), newConnectionScope(r, tc.bc))
			if err != nil {
				t.Fatalf("revoke: %v", err)
			}
			if done != tc.wantDone || res.RequeueAfter != tc.wantResult {
				t.Errorf("revoke = done %v requeue %s, want %v %s", done, res.RequeueAfter, tc.wantDone, tc.wantResult)
			}
			calls := fp.Calls()
			if len(calls) != tc.wantCalls {
				t.Fatalf("%d provider calls (%+v), want %d", len(calls), calls, tc.wantCalls)
			}
			for _, c := range calls {
				if c.Method != "Revoke" || c.Conn.Namespace != "tenant-a" || c.Conn.Name != "alice" {
					t.Errorf("unexpected call %s for %s/%s", c.Method, c.Conn.Namespace, c.Conn.Name)
				}
			}
			if tc.check != nil && len(calls) > 0 {
				tc.check(t, calls)
			}
		})
	}
}

// revokeReconciler is a reconciler over an in-memory client holding the client
// Secrets (and bc's token Secret when tokens) and the fake provider for both providers.
func revokeReconciler(t *testing.T, fp *providerfake.Provider, bc *bankingv1alpha1.BankConnection, tokens bool, now time.Time) *BankConnectionReconciler {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "truelayer"},
			Data: map[string][]byte{"client_id": []byte("id"), "client_secret": []byte("secret")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "codat"}, Data: map[string][]byte{"api_key": []byte("key")}},
	}
	if tokens {
		s := tokensecret.New(bc)
		if err := tokensecret.Encode(s, provider.Tokens{AccessToken: "at-1", RefreshToken: "rt-1", ExpiresAt: now.Add(time.Hour)}, nil); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, s)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	return &BankConnectionReconciler{
		Client: c, APIReader: c,
		Providers: provider.Registry{string(bankingv1alpha1.ProviderTrueLayer): fp, string(bankingv1alpha1.ProviderCodat): fp},
		Links:     gateway.Links{PublicURL: "https://gateway.example"},
		Tokens:    &tokensecret.Store{Client: c, Reader: c},
		Clock:     clock.NewManual(now),
	}
}
