package controllers_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// reconsentThroughReauthentication ends the connection's consent at the bank and
// plays the user re-consenting through the re-authentication journey.
func reconsentThroughReauthentication(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	if err := sb.ExpireConsent(connectionID(t, bc)); err != nil {
		t.Fatal(err)
	}
	forceRefresh(t, bc)
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if a := bc.Status.Authorization; a == nil || !a.Reauthentication || bc.Status.ReconsentURL == "" {
			return fmt.Errorf("no re-authentication journey yet: %+v", bc.Status.Authorization)
		}
		return nil
	})
	user := testenv.NewBrowser()
	page := atBank(t, user, toProvider(t, user, bc.Status.ReconsentURL))
	if page.Status != http.StatusSeeOther && page.Status != http.StatusOK {
		t.Fatalf("re-consent ended with HTTP %d at %s", page.Status, page.URL.Redacted())
	}
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		if j := bc.Status.LastJourney; j == nil || j.Result != bankingv1alpha1.JourneyConnected || !bc.Status.Consent.ExpiresAt.After(clk.Now()) {
			return fmt.Errorf("last journey %+v", bc.Status.LastJourney)
		}
		return isReady(bc)
	})
}

func transactionCounts(r bankingv1alpha1.RunRecord) bankingv1alpha1.ResourceCount {
	for _, c := range r.Counts {
		if c.Resource == bankingv1alpha1.ResourceTransactions {
			return c
		}
	}
	return bankingv1alpha1.ResourceCount{}
}

// rekeyStory holds what the chapters of TestReconsentWithNewAccountIDsStoresNoDuplicate
// share: the connection and its job, the first run and what it left (store counts,
// watermarks, the bank's first ids), and the second run after the re-consent.
type rekeyStory struct {
	bc            *bankingv1alpha1.BankConnection
	connID        string
	sj            *bankingv1alpha1.SyncJob
	key           store.ConnectionKey
	first, second bankingv1alpha1.RunRecord
	before        store.Counts
	watermarks    []bankingv1alpha1.AccountWatermark
	oldIDs        []string
	newDS         *bankdata.Dataset
}

// TestReconsentWithNewAccountIDsStoresNoDuplicate: a connection syncs, its user
// re-consents and the bank gives every account and card a new id (the sandbox's
// option, for this connection only), and the job runs again. The store holds each
// account, card and transaction once, its account rows carry the new provider ids
// under the ids the application already knows, and the second run reads only from
// the watermarks, which stay under those ids.
func TestReconsentWithNewAccountIDsStoresNoDuplicate(t *testing.T) {
	ns := newNamespace(t, "rekey")
	bc := newConnection(ns, "nora")
	bc.Spec.Scopes = append(bc.Spec.Scopes, bankingv1alpha1.ScopeCards)
	s := &rekeyStory{bc: connect(t, bc)}
	s.connID = connectionID(t, s.bc)
	if err := sb.SetNewAccountIDsOnReconsent(s.connID, true); err != nil {
		t.Fatal(err)
	}
	chapter(t, "1 first run", s.firstRun)
	chapter(t, "2 reconsent and run again", s.reconsentAndRunAgain)
	chapter(t, "3 accounts once under first IDs", s.accountsOnceUnderFirstIDs)
	chapter(t, "4 ledger under first IDs", s.ledgerUnderFirstIDs)
	chapter(t, "5 watermarks continued", s.watermarksContinued)
}

// firstRun syncs accounts, cards, balances and transactions once and records what
// the store and the job hold before the re-consent.
func (s *rekeyStory) firstRun(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	s.sj = newSyncJob(s.bc.Namespace, "nora-sync", "nora", "", bankingv1alpha1.SyncModeSync)
	s.sj.Spec.Resources = []bankingv1alpha1.SyncResource{bankingv1alpha1.ResourceAccounts, bankingv1alpha1.ResourceCards,
		bankingv1alpha1.ResourceBalance, bankingv1alpha1.ResourceTransactions}
	create(t, s.sj)
	waitForRuns(t, s.sj, 1)
	s.first = s.sj.Status.RecentRuns[0]
	if first := s.first; first.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("first run: %+v", first)
	}
	s.key = storeKeyOf(t, s.bc.Namespace, s.bc.Name)
	var err error
	s.before, err = testStore.Counts(ctx, s.key)
	if err != nil {
		t.Fatal(err)
	}
	oldDS, _ := sb.ConnectionDataset(s.connID)
	s.watermarks = slices.Clone(s.sj.Status.Watermarks)
	for _, a := range oldDS.Accounts() {
		s.oldIDs = append(s.oldIDs, a.ID)
	}
}

// reconsentAndRunAgain re-consents (the bank gives new ids) and runs the job again.
func (s *rekeyStory) reconsentAndRunAgain(t *testing.T) {
	t.Helper()
	clk.Advance(2 * time.Hour) // new transactions may post meanwhile
	reconsentThroughReauthentication(t, s.bc)
	s.newDS, _ = sb.ConnectionDataset(s.connID)
	requestRun(t, s.sj, "after-reconsent", "")
	waitForRuns(t, s.sj, 2)
	s.second = s.sj.Status.RecentRuns[0]
	if second := s.second; second.Result != bankingv1alpha1.RunSucceeded {
		t.Fatalf("run after the re-consent: %+v", second)
	}
}

// Each account and card once, under its first id, carrying the new provider id.
func (s *rekeyStory) accountsOnceUnderFirstIDs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	key, before, oldIDs, newDS, second := s.key, s.before, s.oldIDs, s.newDS, s.second
	ids, err := testStore.AccountIdentities(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	after, err := testStore.Counts(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if after.Accounts != before.Accounts || after.Cards != before.Cards || int(after.Accounts+after.Cards) != len(oldIDs) {
		t.Fatalf("accounts %d and cards %d after the re-consent, %d and %d before; the bank has %d", after.Accounts, after.Cards,
			before.Accounts, before.Cards, len(oldIDs))
	}
	accounts, err := testStore.ListAccounts(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if a.ProviderAccountID == "" || a.ProviderAccountID == a.AccountID {
			t.Fatalf("account %s reads no new provider id after the re-consent: %+v", a.AccountID, a)
		}
	}
	var wantTotal int64
	for i, a := range newDS.Accounts() {
		if a.ID == oldIDs[i] {
			t.Fatalf("test setup: account %d kept its id %s through the re-consent", i, a.ID)
		}
		at := slices.IndexFunc(ids, func(id store.AccountIdentity) bool { return id.ProviderAccountID == a.ID })
		if at < 0 || ids[at].AccountID != oldIDs[i] {
			t.Fatalf("the bank's new id %s is not recorded on the row of %s: %+v", a.ID, oldIDs[i], ids)
		}
		wantTotal += s.transactionsOnceUnderFirstID(t, oldIDs[i], a.ID)
	}
	if after.Transactions != wantTotal {
		t.Fatalf("%d transactions in the store, %d under the accounts' ids: rows under other ids", after.Transactions, wantTotal)
	}
	if stored := transactionCounts(second).Stored; after.Transactions-before.Transactions != stored {
		t.Fatalf("the second run counts %d new transactions, the store gained %d", stored, after.Transactions-before.Transactions)
	}
}

// transactionsOnceUnderFirstID: every transaction of both runs' windows, once, under
// the account's first id; it returns how many the bank has.
func (s *rekeyStory) transactionsOnceUnderFirstID(t *testing.T, oldID, newID string) int64 {
	t.Helper()
	ctx := context.Background()
	key, newDS, first := s.key, s.newDS, s.first
	from, to := first.StartedAt.Add(-30*24*time.Hour), clk.Now()
	want := map[string]bool{}
	for _, tx := range newDS.Transactions(newID, from, to) {
		if !tx.Timestamp.Before(from) && tx.Timestamp.Before(to) {
			want[tx.NormalisedID] = true
		}
	}
	got, err := testStore.ListTransactions(ctx, store.TransactionQuery{Key: key, AccountID: oldID, From: from, To: to})
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range got {
		if !want[tx.NormalisedProviderTransactionID] {
			t.Fatalf("account %s: stored transaction %s is not the bank's", oldID, tx.NormalisedProviderTransactionID)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("account %s: %d transactions stored, the bank has %d", oldID, len(got), len(want))
	}
	return int64(len(want))
}

// The four-calls ledger counts the second run's calls on the accounts it already knew.
func (s *rekeyStory) ledgerUnderFirstIDs(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	bc, oldIDs := s.bc, s.oldIDs
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(bc), bc); err != nil {
		t.Fatal(err)
	}
	for _, e := range bc.Status.UnattendedCalls {
		if e.AccountID != "" && !slices.Contains(oldIDs, e.AccountID) {
			t.Fatalf("ledger entry under the re-consent's id %s: the bank account's calls would be counted twice: %+v", e.AccountID, bc.Status.UnattendedCalls)
		}
	}
}

// The watermarks continued under the same ids; the second run read only from them.
func (s *rekeyStory) watermarksContinued(t *testing.T) {
	t.Helper()
	sj, watermarks, newDS, first, second := s.sj, s.watermarks, s.newDS, s.first, s.second
	if len(sj.Status.Watermarks) != len(watermarks) {
		t.Fatalf("watermarks after the re-consent %+v, before %+v", sj.Status.Watermarks, watermarks)
	}
	earliest := clk.Now()
	for i, w := range sj.Status.Watermarks {
		if w.AccountID != watermarks[i].AccountID || !w.TransactionsThrough.After(watermarks[i].TransactionsThrough.Time) {
			t.Fatalf("watermark %d: %+v after the re-consent, %+v before", i, w, watermarks[i])
		}
		if watermarks[i].TransactionsThrough.Before(&metav1.Time{Time: earliest}) {
			earliest = watermarks[i].TransactionsThrough.Time
		}
	}
	since := earliest.Add(-24*time.Hour - 24*time.Hour) // the overlap, and a day for date-granular windows
	var inWindow int64
	for _, a := range newDS.Accounts() {
		inWindow += int64(len(newDS.Transactions(a.ID, since, clk.Now())))
	}
	if fetched := transactionCounts(second).Fetched; fetched > inWindow || fetched >= transactionCounts(first).Fetched {
		t.Fatalf("the second run fetched %d transactions (%d since the watermarks less the overlap, %d in the first run): it did not continue from the watermarks",
			fetched, inWindow, transactionCounts(first).Fetched)
	}
}
