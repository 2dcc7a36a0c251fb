package dataapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/request/bearertoken"
	"k8s.io/apiserver/pkg/authentication/token/tokenfile"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
)

// The unit tests run the API's handler over a real SQLite store and a
// controller-runtime fake client; the guard authenticates fixed tokens and
// authorizes as an RBAC Role granting "app" everything on bankconnections/data in
// team-a would. The real TokenReview and SubjectAccessReview are exercised by the
// envtest suite (controllers/dataapi_test.go).

var base = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

const (
	tokenApp       = "token-of-app"       // may read and erase in team-a
	tokenElsewhere = "token-of-other-app" // may read and erase in team-b only
)

// tenantAuthorizer allows a user everything on bankconnections/data in its namespace.
type tenantAuthorizer map[string]string

func (a tenantAuthorizer) Authorize(_ context.Context, attr authorizer.Attributes) (authorizer.Decision, string, error) {
	if attr.IsResourceRequest() && attr.GetAPIGroup() == Group && attr.GetResource() == Resource &&
		attr.GetSubresource() == Subresource && a[attr.GetUser().GetName()] == attr.GetNamespace() {
		return authorizer.DecisionAllow, "", nil
	}
	return authorizer.DecisionNoOpinion, "no rule", nil
}

type fixture struct {
	t       *testing.T
	store   store.Store
	handler http.Handler
	// monzo is alice's live connection; retained is an earlier connection of the same
	// name (deleted, rows retained); lloyds is alice's second bank; bob's is bob's.
	monzo, retained, lloyds, bob store.Owner
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := sqlite.Open(t.Context(), t.TempDir()+"/store.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	f := &fixture{t: t, store: st,
		monzo:    store.Owner{Namespace: "team-a", Connection: "alice-monzo", UID: "uid-2", UserRef: "alice", Provider: "TrueLayer"},
		retained: store.Owner{Namespace: "team-a", Connection: "alice-monzo", UID: "uid-1", UserRef: "alice", Provider: "TrueLayer"},
		lloyds:   store.Owner{Namespace: "team-a", Connection: "alice-lloyds", UID: "uid-3", UserRef: "alice", Provider: "TrueLayer"},
		bob:      store.Owner{Namespace: "team-a", Connection: "bob-monzo", UID: "uid-4", UserRef: "bob", Provider: "TrueLayer"},
	}
	for i, o := range []store.Owner{f.monzo, f.retained, f.lloyds, f.bob} {
		f.fill(o, 20+i)
	}
	scheme := runtime.NewScheme()
	if err := bankingv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	expires := metav1.NewTime(base.Add(90 * 24 * time.Hour))
	var objs []*bankingv1alpha1.BankConnection
	for _, o := range []store.Owner{f.monzo, f.lloyds, f.bob} {
		objs = append(objs, &bankingv1alpha1.BankConnection{
			ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace, Name: o.Connection, UID: types.UID(o.UID)},
			Spec:       bankingv1alpha1.BankConnectionSpec{Provider: bankingv1alpha1.ProviderTrueLayer, UserRef: o.UserRef},
			Status: bankingv1alpha1.BankConnectionStatus{
				Conditions: []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: "Authorized"}},
				Consent:    &bankingv1alpha1.ConsentStatus{Status: bankingv1alpha1.ConsentActive, ExpiresAt: &expires, ProviderID: "ob-monzo"},
			},
		})
	}
	b := fake.NewClientBuilder().WithScheme(scheme).WithIndex(&bankingv1alpha1.BankConnection{}, IndexUserRef, UserRefOf)
	for _, o := range objs {
		b = b.WithObjects(o)
	}
	tokens := tokenfile.New(map[string]*user.DefaultInfo{
		tokenApp:       {Name: "app"},
		tokenElsewhere: {Name: "other-app"},
	})
	srv := &Server{Store: st, Connections: b.Build(), Log: testr.New(t),
		Guard: &Guard{Authenticator: bearertoken.New(tokens), Authorizer: tenantAuthorizer{"app": "team-a", "other-app": "team-b"}}}
	f.handler = srv.Handler()
	return f
}

// fill stores one row of every kind through o, and n transactions a minute apart.
func (f *fixture) fill(o store.Owner, n int) {
	t, ctx := f.t, f.t.Context()
	must := func(what string, err error) {
		if err != nil {
			t.Fatalf("%s of %s: %v", what, o.UID, err)
		}
	}
	_, err := f.store.UpsertAccounts(ctx, o, []store.Account{{AccountID: "acc", Type: "TRANSACTION", Currency: "GBP",
		Number: store.AccountNumber{SortCode: "01-02-03", Number: "12345678"}, FetchedAt: base}})
	must("accounts", err)
	_, err = f.store.UpsertCards(ctx, o, []store.Card{{AccountID: "card", CardNetwork: "VISA", PartialCardNumber: "1234", FetchedAt: base}})
	must("cards", err)
	_, err = f.store.AppendBalances(ctx, o, []store.Balance{{AccountID: "acc", ObservedAt: base, Currency: "GBP", Current: "10.5"}})
	must("balances", err)
	var txs []store.Transaction
	for i := range n {
		txs = append(txs, store.Transaction{AccountID: "acc", NormalisedProviderTransactionID: fmt.Sprintf("tx-%03d", i),
			Timestamp: base.Add(time.Duration(i) * time.Minute), Amount: "-1.25", Currency: "GBP", Type: "DEBIT",
			RunningBalance: &store.Money{Amount: "100", Currency: "GBP"}, Meta: json.RawMessage(`{"k":"v"}`)})
	}
	_, err = f.store.UpsertTransactions(ctx, o, txs)
	must("transactions", err)
	must("pending", f.store.ReplacePending(ctx, o, "acc", base, txs[:1]))
	must("orders", f.store.ReplaceStandingOrders(ctx, o, "acc", base, []store.StandingOrder{{AccountID: "acc", Frequency: "Monthly", NextPaymentAmount: "5"}}))
	must("debits", f.store.ReplaceDirectDebits(ctx, o, "acc", base, []store.DirectDebit{{AccountID: "acc", Name: "EE", Status: "Active"}}))
	must("identity", f.store.ReplaceIdentity(ctx, o, "", base, []store.Identity{{FullName: "Alice", Addresses: []store.Address{{City: "London"}}}}))
	must("start run", f.store.StartSyncRun(ctx, store.SyncRun{RunID: "run-" + o.UID, SyncJob: "job", Owner: o, StartedAt: base}))
	must("finish run", f.store.FinishSyncRun(ctx, store.RunResult{Namespace: o.Namespace, RunID: "run-" + o.UID, FinishedAt: base.Add(time.Minute),
		Status: store.RunSucceeded, Counts: map[string]int64{store.ResourceTransactions: int64(n)}}))
}

// do sends a request with token ("" sends none) and returns status and body.
func (f *fixture) do(method, path, token string) (int, []byte) {
	f.t.Helper()
	req := httptest.NewRequestWithContext(f.t.Context(), method, path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, bytes.TrimSpace(body)
}

// get decodes a 200 answer into out.
func (f *fixture) get(path string, out any) {
	f.t.Helper()
	code, body := f.do(http.MethodGet, path, tokenApp)
	if code != http.StatusOK {
		f.t.Fatalf("GET %s: %d %s", path, code, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		f.t.Fatalf("GET %s: %v", path, err)
	}
}

func (f *fixture) counts(k store.ConnectionKey) store.Counts {
	f.t.Helper()
	c, err := f.store.Counts(f.t.Context(), k)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}
