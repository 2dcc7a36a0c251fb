package controllers_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/dataapi"
	"github.com/consent-operator/consent-operator/internal/store"
)

// The stories of the data API, told over the whole operator: connections consented
// in the bank sandbox, SyncJobs that fill the store, and applications calling the
// manager's data API over HTTPS with their ServiceAccount tokens, authorized by
// ordinary Roles through the real kube-apiserver.

// syncedConnection is a Ready connection whose one-off SyncJob has stored its data.
func syncedConnection(t *testing.T, bc *bankingv1alpha1.BankConnection) *bankingv1alpha1.SyncJob {
	t.Helper()
	consented(t, bc)
	sj := newSyncJob(bc.Namespace, bc.Name+"-once", bc.Name, "", bankingv1alpha1.SyncModeSync)
	sj.Spec.Resources = append(sj.Spec.Resources, bankingv1alpha1.ResourceInfo)
	create(t, sj)
	waitForRuns(t, sj, 1)
	if r := sj.Status.RecentRuns[0]; r.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("sync of %s: %+v", bc.Name, r)
	}
	return sj
}

// readPages follows `next` from the first page and checks each page against the
// served document.
func readPages(t *testing.T, doc *openapi3.T, template, path, token string, limit int) (rows []dataapi.Transaction, pages int) {
	t.Helper()
	next := ""
	for {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if next != "" {
			q.Set("cursor", next)
		}
		code, body := callDataAPI(t, http.MethodGet, path+"?"+q.Encode(), token)
		if code != http.StatusOK {
			t.Fatalf("page %d of %s: %d %s", pages, path, code, body)
		}
		matchesDocument(t, doc, template, http.MethodGet, "200", body)
		var page dataapi.TransactionPage
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		pages++
		rows = append(rows, page.Items...)
		if next = page.Next; next == "" {
			return rows, pages
		}
	}
}

func matchesDocument(t *testing.T, doc *openapi3.T, template, method, status string, body []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s %s: not JSON: %v", method, template, err)
	}
	op := doc.Paths.Find(template).GetOperation(method)
	if op == nil || op.Responses.Value(status) == nil {
		t.Fatalf("%s %s %s is not documented", method, template, status)
	}
	if err := op.Responses.Value(status).Value.Content.Get("application/json").Schema.Value.VisitJSON(v); err != nil {
		t.Fatalf("%s %s: the %s answer does not match the document: %v", method, template, status, err)
	}
}

// TestDataAPIAppReadsItsUsersTransactionsPageByPage: an application whose
// ServiceAccount has a Role granting get on bankconnections/data reads a user's
// transactions page by page, every stored row once and in order, and the consent's
// state and expiry; every answer matches the served OpenAPI document.
func TestDataAPIAppReadsItsUsersTransactionsPageByPage(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "dataread")
	bc := newConnection(ns, "nina")
	syncedConnection(t, bc)
	token := appToken(t, ns, "banking-app", []string{"get"}, nil)
	doc := servedDocument(t)

	key := storeKey(bc)
	stored, err := testStore.CountTransactions(ctx, store.TransactionQuery{Key: key})
	if err != nil || stored < 30 {
		t.Fatalf("the sync stored %d transactions (%v): too few to page", stored, err)
	}
	reviewsBefore := apiserverRequests(t, "tokenreviews") + apiserverRequests(t, "subjectaccessreviews")
	totalPages := 0
	for _, tc := range []struct{ template, path string }{
		{"/v1/namespaces/{namespace}/users/{userRef}/transactions", "/v1/namespaces/" + ns + "/users/" + bc.Spec.UserRef + "/transactions"},
		{"/v1/namespaces/{namespace}/bankconnections/{name}/transactions", "/v1/namespaces/" + ns + "/bankconnections/nina/transactions"},
	} {
		const limit = 10
		rows, pages := readPages(t, doc, tc.template, tc.path, token, limit)
		if int64(len(rows)) != stored || pages != int((stored+limit-1)/limit) {
			t.Fatalf("%s: %d transactions in %d pages, the store holds %d", tc.path, len(rows), pages, stored)
		}
		totalPages += pages
		seen := map[string]bool{}
		for i, r := range rows {
			if seen[r.AccountID+"/"+r.TransactionID] {
				t.Fatalf("%s: transaction %s twice", tc.path, r.TransactionID)
			}
			seen[r.AccountID+"/"+r.TransactionID] = true
			if r.ConnectionUID != key.UID || (i > 0 && r.Timestamp.Before(rows[i-1].Timestamp)) {
				t.Fatalf("%s: row %d out of place: %+v", tc.path, i, r)
			}
		}
	}

	// The guard's caches answer the page loop: one TokenReview for the token and one
	// SubjectAccessReview per path, not two reviews per page.
	reviews := apiserverRequests(t, "tokenreviews") + apiserverRequests(t, "subjectaccessreviews") - reviewsBefore
	t.Logf("%d pages cost the apiserver %.0f reviews", totalPages, reviews)
	if reviews > 3 {
		t.Fatalf("%d pages cost %.0f TokenReviews and SubjectAccessReviews, want at most 3", totalPages, reviews)
	}

	assertConnectionRead(t, doc, bc, token)
}

// assertConnectionRead: the application reads bc's consent state and expiry as the
// BankConnection says them, and its user's other resources, each answer as the served
// document describes it.
func assertConnectionRead(t *testing.T, doc *openapi3.T, bc *bankingv1alpha1.BankConnection, token string) {
	t.Helper()
	key := storeKey(bc)
	code, body := callDataAPI(t, http.MethodGet, "/v1/namespaces/"+bc.Namespace+"/bankconnections/"+bc.Name, token)
	if code != http.StatusOK {
		t.Fatalf("connection: %d %s", code, body)
	}
	matchesDocument(t, doc, "/v1/namespaces/{namespace}/bankconnections/{name}", http.MethodGet, "200", body)
	var conn dataapi.Connection
	if err := json.Unmarshal(body, &conn); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), bc); err != nil {
		t.Fatal(err)
	}
	if !conn.Present || conn.Ready != "True" || conn.Consent == nil || conn.Consent.Status != string(bankingv1alpha1.ConsentActive) ||
		conn.Consent.ExpiresAt == nil || !conn.Consent.ExpiresAt.Equal(bc.Status.Consent.ExpiresAt.Time) {
		t.Fatalf("consent state %+v %+v, the BankConnection says %+v", conn, conn.Consent, bc.Status.Consent)
	}
	for _, res := range []string{"accounts", "balances", "identity", "sync-runs"} {
		code, body := callDataAPI(t, http.MethodGet, "/v1/namespaces/"+bc.Namespace+"/users/"+bc.Spec.UserRef+"/"+res, token)
		if code != http.StatusOK || !strings.Contains(string(body), `"connectionUID":"`+key.UID+`"`) {
			t.Fatalf("%s: %d %s", res, code, body)
		}
		matchesDocument(t, doc, "/v1/namespaces/{namespace}/users/{userRef}/"+res, http.MethodGet, "200", body)
	}
}

// TestDataAPIRefusalsRevealNothing: an application without the Role, or with it in
// another namespace, gets 403 with the same body whether the connection or user it
// names exists or not; no or a forged token gets 401; a Role naming one connection
// reaches that connection only.
func TestDataAPIRefusalsRevealNothing(t *testing.T) {
	ns, elsewhere := newNamespace(t, "datatenant"), newNamespace(t, "dataother")
	bc := newConnection(ns, "olaf")
	syncedConnection(t, bc)
	stranger := appToken(t, ns, "no-role", nil, nil)
	outsider := appToken(t, elsewhere, "banking-app", []string{"get", "delete"}, nil)
	named := appToken(t, ns, "olaf-only", []string{"get"}, []string{"olaf"})
	reader := appToken(t, ns, "reader", []string{"get"}, nil)

	existing := []string{
		"/v1/namespaces/" + ns + "/bankconnections/olaf/transactions",
		"/v1/namespaces/" + ns + "/bankconnections/olaf",
		"/v1/namespaces/" + ns + "/users/" + bc.Spec.UserRef + "/identity",
	}
	absent := []string{
		"/v1/namespaces/" + ns + "/bankconnections/nobody/transactions",
		"/v1/namespaces/" + ns + "/bankconnections/nobody",
		"/v1/namespaces/" + ns + "/users/nobody/identity",
	}
	refused := map[int]string{}
	check := func(name, method, path, token string, want int) {
		t.Helper()
		code, body := callDataAPI(t, method, path, token)
		if code != want {
			t.Errorf("%s %s %s: %d %s, want %d", name, method, path, code, body, want)
		}
		if prev, ok := refused[code]; ok && prev != string(body) {
			t.Errorf("%s %s: the %d body differs: %s, was %s", name, path, code, body, prev)
		}
		refused[code] = string(body)
	}
	for _, path := range append(append([]string{}, existing...), absent...) {
		check("no Role", http.MethodGet, path, stranger, http.StatusForbidden)
		check("Role in another namespace", http.MethodGet, path, outsider, http.StatusForbidden)
		check("no token", http.MethodGet, path, "", http.StatusUnauthorized)
		check("forged token", http.MethodGet, path, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", http.StatusUnauthorized)
	}
	check("no Role, erasure", http.MethodDelete, "/v1/namespaces/"+ns+"/users/"+bc.Spec.UserRef, stranger, http.StatusForbidden)
	check("Role in another namespace, erasure", http.MethodDelete, "/v1/namespaces/"+ns+"/users/"+bc.Spec.UserRef, outsider, http.StatusForbidden)
	check("get only, erasure", http.MethodDelete, "/v1/namespaces/"+ns+"/users/"+bc.Spec.UserRef, reader, http.StatusForbidden)
	check("Role for another connection", http.MethodGet, "/v1/namespaces/"+ns+"/bankconnections/nobody/transactions", named, http.StatusForbidden)
	check("Role for one connection, user-wide", http.MethodGet, "/v1/namespaces/"+ns+"/users/"+bc.Spec.UserRef+"/identity", named, http.StatusForbidden)
	if len(refused) != 2 {
		t.Fatalf("refusals answered with statuses %v", refused)
	}
	if strings.Contains(refused[http.StatusForbidden], "olaf") || strings.Contains(refused[http.StatusForbidden], ns) {
		t.Fatalf("the refusal names what was asked for: %s", refused[http.StatusForbidden])
	}
	// Nothing was erased by the refused erasures, and the named Role reads its connection.
	if code, body := callDataAPI(t, http.MethodGet, existing[0], named); code != http.StatusOK || !strings.Contains(string(body), `"transactionId"`) {
		t.Fatalf("the Role naming olaf: %d %s", code, body)
	}
}

// TestDataAPIErasesAUser: DELETE of a userRef erases every row of that user's
// connections in the namespace and reports the counts; another user's rows stay.
func TestDataAPIErasesAUser(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "dataerase")
	pam, pam2, quin := newConnection(ns, "pam"), newConnection(ns, "pam-second"), newConnection(ns, "quentin")
	pam2.Spec.UserRef = pam.Spec.UserRef
	for _, bc := range []*bankingv1alpha1.BankConnection{pam, pam2, quin} {
		syncedConnection(t, bc)
	}
	token := appToken(t, ns, "banking-app", []string{"get", "delete"}, nil)
	var want dataapi.Erasure
	for _, bc := range []*bankingv1alpha1.BankConnection{pam, pam2} {
		c, err := testStore.Counts(ctx, storeKey(bc))
		if err != nil || c.Transactions == 0 {
			t.Fatalf("%s stored %+v (%v)", bc.Name, c, err)
		}
		want.Transactions += c.Transactions
		want.Accounts += c.Accounts
		want.Identities += c.Identities
	}
	before, err := testStore.Counts(ctx, storeKey(quin))
	if err != nil {
		t.Fatal(err)
	}

	code, body := callDataAPI(t, http.MethodDelete, "/v1/namespaces/"+ns+"/users/"+pam.Spec.UserRef, token)
	if code != http.StatusOK {
		t.Fatalf("erasure: %d %s", code, body)
	}
	matchesDocument(t, servedDocument(t), "/v1/namespaces/{namespace}/users/{userRef}", http.MethodDelete, "200", body)
	var got dataapi.Erasure
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.Transactions != want.Transactions || got.Accounts != want.Accounts || got.Identities != want.Identities ||
		got.SyncRuns != 2 || got.Connections != 2 {
		t.Fatalf("erased %+v, the store held %+v and 2 runs", got, want)
	}
	for _, bc := range []*bankingv1alpha1.BankConnection{pam, pam2} {
		if c, err := testStore.Counts(ctx, storeKey(bc)); err != nil || c != (store.Counts{}) {
			t.Fatalf("%s keeps %+v (%v)", bc.Name, c, err)
		}
	}
	if after, err := testStore.Counts(ctx, storeKey(quin)); err != nil || after != before {
		t.Fatalf("another user's rows changed: %+v -> %+v (%v)", before, after, err)
	}
	_, body = callDataAPI(t, http.MethodGet, "/v1/namespaces/"+ns+"/users/"+pam.Spec.UserRef+"/transactions", token)
	if !strings.Contains(string(body), `"items":[]`) {
		t.Fatalf("after erasure: %s", body)
	}
}

// TestDataAPIRecreatedConnectionSeesNoEarlierRows: a connection deleted with
// dataRetention Retain and created again under its name reads none of the earlier
// rows; the retained rows stay reachable through the userRef.
func TestDataAPIRecreatedConnectionSeesNoEarlierRows(t *testing.T) {
	ctx := context.Background()
	ns := newNamespace(t, "datarecreate")
	first := newConnection(ns, "rita")
	first.Spec.DataRetention = bankingv1alpha1.DataRetentionRetain
	job := syncedConnection(t, first)
	retained, err := testStore.CountTransactions(ctx, store.TransactionQuery{Key: storeKey(first)})
	if err != nil || retained == 0 {
		t.Fatalf("first connection stored %d (%v)", retained, err)
	}
	deleteAndWait(t, first)
	// The one-off job ran for the first connection; the second is read before any run.
	if err := env.Client.Delete(ctx, job); err != nil {
		t.Fatal(err)
	}

	second := newConnection(ns, "rita")
	second.Spec.DataRetention = bankingv1alpha1.DataRetentionRetain
	consented(t, second)
	if second.UID == first.UID {
		t.Fatal("the recreated connection has the same UID")
	}
	token := appToken(t, ns, "banking-app", []string{"get"}, nil)
	connPath, userPath := "/v1/namespaces/"+ns+"/bankconnections/rita", "/v1/namespaces/"+ns+"/users/"+second.Spec.UserRef
	for _, res := range []string{"/transactions", "/accounts", "/identity", "/sync-runs"} {
		code, body := callDataAPI(t, http.MethodGet, connPath+res, token)
		if code != http.StatusOK || !strings.Contains(string(body), `"items":[]`) {
			t.Fatalf("the recreated connection reads %s of the earlier one: %d %s", res, code, body)
		}
	}
	code, body := callDataAPI(t, http.MethodGet, userPath, token)
	var u dataapi.User
	if code != http.StatusOK || json.Unmarshal(body, &u) != nil || len(u.Connections) != 2 {
		t.Fatalf("the user's connections: %d %s", code, body)
	}
	for _, c := range u.Connections {
		if c.Present != (c.ConnectionUID == string(second.UID)) {
			t.Fatalf("connection %s present=%v (the live one is %s)", c.ConnectionUID, c.Present, second.UID)
		}
	}
	rows, _ := readPages(t, servedDocument(t), "/v1/namespaces/{namespace}/users/{userRef}/transactions", userPath+"/transactions", token, 500)
	if int64(len(rows)) != retained {
		t.Fatalf("the user reads %d transactions, %d were retained", len(rows), retained)
	}
	for _, r := range rows {
		if r.ConnectionUID != string(first.UID) {
			t.Fatalf("a transaction of %s before the new connection synced", r.ConnectionUID)
		}
	}
}
