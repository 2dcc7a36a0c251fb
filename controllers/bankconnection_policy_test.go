package controllers

import (
	"errors"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/connection"
	"github.com/consent-operator/consent-operator/internal/provider"
)

var policyNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func stalledCondition(reason, message string, generation int64) *metav1.Condition {
	return &metav1.Condition{Type: bankingv1alpha1.ConditionStalled, Status: metav1.ConditionTrue, Reason: reason, Message: message, ObservedGeneration: generation}
}

func TestHeldStallHolds(t *testing.T) {
	revoked := stalledCondition(bankingv1alpha1.ReasonConsentRevoked, "revoked", 2)
	rejected := stalledCondition(bankingv1alpha1.ReasonInvalidClientCredentials, msgCredentialsRejected+"; fix it", 2)
	tests := []struct {
		name string
		f    stallFacts
		want stallHold
	}{
		{"no stall", stallFacts{generation: 2}, stallLifted},
		{"a stall of an older spec is lifted", stallFacts{stalled: revoked, generation: 3}, stallLifted},
		{"a stall that is not True", stallFacts{stalled: &metav1.Condition{Status: metav1.ConditionFalse, Reason: bankingv1alpha1.ReasonConsentRevoked, ObservedGeneration: 2}, generation: 2}, stallLifted},
		{"a new consent lifts it", stallFacts{stalled: revoked, generation: 2, consented: true}, stallLifted},
		{"a request lifts it", stallFacts{stalled: revoked, generation: 2, requested: true}, stallLifted},
		{"a newer grant in the token Secret lifts it", stallFacts{stalled: revoked, generation: 2, reconsented: true}, stallLifted},
		{"a missing Secret is checked again on every reconcile", stallFacts{stalled: stalledCondition(bankingv1alpha1.ReasonInvalidClientCredentials, "Client credentials Secret c not found", 2), generation: 2}, stallLifted},
		{"an expired consent is placed again by the window, not held here", stallFacts{stalled: stalledCondition(bankingv1alpha1.ReasonConsentExpired, "expired", 2), generation: 2}, stallLifted},
		{"the provider refused the consent: keep the re-consent link", stallFacts{stalled: revoked, generation: 2}, stallAwaitsReconsent},
		{"a lost refresh token: keep the re-consent link", stallFacts{stalled: stalledCondition(bankingv1alpha1.ReasonRefreshInterrupted, "lost", 2), generation: 2}, stallAwaitsReconsent},
		{"rejected credentials wait for a fix", stallFacts{stalled: rejected, generation: 2}, stallAwaitsFix},
		{"an invalid request waits for a fix", stallFacts{stalled: stalledCondition(bankingv1alpha1.ReasonInvalidRequest, msgInvalidRequest, 2), generation: 2}, stallAwaitsFix},
		{"a fix then a request lifts it", stallFacts{stalled: rejected, generation: 2, requested: true}, stallLifted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := heldStallHolds(tc.f); got != tc.want {
				t.Errorf("heldStallHolds = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestReconsented(t *testing.T) {
	granted := policyNow.Add(-time.Hour)
	status := &bankingv1alpha1.ConsentStatus{GrantedAt: timePtr(granted)}
	tests := []struct {
		name      string
		c         *bankingv1alpha1.ConsentStatus
		hasTokens bool
		grantedAt time.Time
		want      bool
	}{
		{"the grant status describes", status, true, granted, false},
		{"a newer grant", status, true, policyNow, true},
		{"no tokens", status, false, policyNow, false},
		{"no consent in status yet", nil, true, policyNow, false},
		{"a Secret without a grant time", status, true, time.Time{}, false},
	}
	for _, tc := range tests {
		if got := reconsented(tc.c, tc.hasTokens, tc.grantedAt); got != tc.want {
			t.Errorf("%s: reconsented = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNextKeptStep(t *testing.T) {
	rejected := stalledCondition(bankingv1alpha1.ReasonInvalidRequest, msgInvalidRequest, 1)
	due := policyNow.Add(time.Minute)
	tests := []struct {
		name string
		f    keptFacts
		want keptStep
	}{
		{"rejected by the provider: wait for a fix", keptFacts{stalled: rejected, generation: 1, started: true, due: due, now: policyNow}, keptAwaitFix},
		{"a request after a fix goes on", keptFacts{stalled: rejected, generation: 1, requested: true, started: true, due: due, now: policyNow}, keptCheck},
		{"a spec change after a fix goes on", keptFacts{stalled: rejected, generation: 2, started: true, due: due, now: policyNow}, keptWait},
		{"a revocation is not waited out: the schedule checks", keptFacts{stalled: stalledCondition(bankingv1alpha1.ReasonConsentRevoked, "r", 1), generation: 1, started: true, due: policyNow, now: policyNow}, keptCheck},
		{"no journey yet", keptFacts{generation: 1, now: policyNow}, keptStartJourney},
		{"no journey yet, asked to check", keptFacts{generation: 1, requested: true, now: policyNow}, keptStartJourney},
		{"not due", keptFacts{generation: 1, started: true, due: due, now: policyNow}, keptWait},
		{"due", keptFacts{generation: 1, started: true, due: policyNow, now: policyNow}, keptCheck},
		{"not due but asked", keptFacts{generation: 1, started: true, due: due, requested: true, now: policyNow}, keptCheck},
		{"not due but the recorded end passed", keptFacts{generation: 1, started: true, due: due, windowEnded: true, now: policyNow}, keptCheck},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextKeptStep(tc.f); got != tc.want {
				t.Errorf("nextKeptStep = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestJourneyLinkCurrent(t *testing.T) {
	journey := func(expires time.Time, url string, handoff *bankingv1alpha1.HandoffStatus) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{}
		bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: "n1", ExpiresAt: metav1.NewTime(expires)}
		bc.Status.AuthorizationURL = url
		bc.Status.Handoff = handoff
		return bc
	}
	later := policyNow.Add(time.Hour)
	tests := []struct {
		name    string
		bc      *bankingv1alpha1.BankConnection
		current bool
	}{
		{"no journey", &bankingv1alpha1.BankConnection{}, false},
		{"a journey without the provider's link", journey(later, "", nil), false},
		{"a link that lapses within the minute", journey(policyNow.Add(30*time.Second), "https://bank", nil), false},
		{"a link handed off already", journey(later, "https://bank", &bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed"}), false},
		{"a re-authentication request does not use the link up", journey(later, "https://bank", &bankingv1alpha1.HandoffStatus{Nonce: "n1"}), true},
		{"a handoff of an older journey", journey(later, "https://bank", &bankingv1alpha1.HandoffStatus{Nonce: "n0", Code: "sealed"}), true},
		{"a current link", journey(later, "https://bank", nil), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			current, renewAt := journeyLinkCurrent(tc.bc, policyNow)
			if current != tc.current {
				t.Fatalf("current = %v, want %v", current, tc.current)
			}
			if current && !renewAt.Equal(later.Add(-linkValidFor)) {
				t.Errorf("renewAt = %s, want a minute before the link lapses", renewAt)
			}
		})
	}
}

func TestExtendDue(t *testing.T) {
	tests := []struct {
		name string
		last time.Time
		due  bool
		at   time.Time
	}{
		{"never tried", time.Time{}, true, time.Time{}},
		{"tried within the interval", policyNow.Add(-time.Hour), false, policyNow.Add(-time.Hour + extendInterval)},
		{"tried an interval ago", policyNow.Add(-extendInterval), true, time.Time{}},
	}
	for _, tc := range tests {
		due, at := extendDue(tc.last, policyNow)
		if due != tc.due || !at.Equal(tc.at) {
			t.Errorf("%s: extendDue = %v %s, want %v %s", tc.name, due, at, tc.due, tc.at)
		}
	}
}

func TestRefreshSkipped(t *testing.T) {
	ended := &bankingv1alpha1.ConsentStatus{ExpiresAt: timePtr(policyNow)}
	running := &bankingv1alpha1.ConsentStatus{ExpiresAt: timePtr(policyNow.Add(time.Hour))}
	tests := []struct {
		name  string
		known bool
		c     *bankingv1alpha1.ConsentStatus
		want  bool
	}{
		{"the consent ended", true, ended, true},
		{"the consent runs", true, running, false},
		{"the consent in status is an older one's", false, ended, false},
		{"no end recorded", true, &bankingv1alpha1.ConsentStatus{}, false},
		{"no consent in status", true, nil, false},
	}
	for _, tc := range tests {
		if got := refreshSkipped(tc.known, tc.c, policyNow); got != tc.want {
			t.Errorf("%s: refreshSkipped = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRevokeOutcome(t *testing.T) {
	deleted := policyNow.Add(-time.Minute)
	outage := &provider.Error{Class: provider.ClassRetryLater, Op: "revoke", Status: 503}
	tests := []struct {
		name string
		err  error
		now  time.Time
		want revokeVerdict
	}{
		{"revoked", nil, policyNow, revokeDone},
		{"an outage within the deadline is retried", outage, policyNow, revokeRetry},
		{"throttling within the deadline is retried", &provider.Error{Class: provider.ClassRateLimited, Op: "revoke", Status: 429}, policyNow, revokeRetry},
		{"the apiserver within the deadline is retried", errors.New("connection refused"), policyNow, revokeRetry},
		{"an outage past the deadline is given up", outage, deleted.Add(revokeDeadline), revokeAbandoned},
		{"a consent the provider ended already", &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonConsentExpired, Op: "revoke", Status: 401}, policyNow, revokeDone},
		{"rejected credentials are given up at once", &provider.Error{Class: provider.ClassNeedsHuman, Reason: provider.ReasonInvalidClientCredentials, Op: "revoke", Status: 401}, policyNow, revokeAbandoned},
		{"a missing client Secret is given up at once", &connection.NeedsHumanError{Reason: bankingv1alpha1.ReasonInvalidClientCredentials, Message: "gone"}, policyNow, revokeAbandoned},
		{"an invalid request is given up at once", &provider.Error{Class: provider.ClassInvalidRequest, Op: "revoke", Status: 400}, policyNow, revokeAbandoned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := revokeOutcome(tc.err, deleted, tc.now); got != tc.want {
				t.Errorf("revokeOutcome = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestUserWaits(t *testing.T) {
	handoff := func(h *bankingv1alpha1.HandoffStatus, a *bankingv1alpha1.AuthorizationStatus, last *bankingv1alpha1.JourneyOutcome) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{}
		bc.Status.Handoff, bc.Status.Authorization, bc.Status.LastJourney = h, a, last
		return bc
	}
	auth := &bankingv1alpha1.AuthorizationStatus{Nonce: "n1", Reauthentication: true}
	reauth := &bankingv1alpha1.ReauthenticationRequest{ID: "r1", Browser: "b"}
	returned := &bankingv1alpha1.BankConnection{}
	returned.Status.CheckRequest = &bankingv1alpha1.CheckRequest{ID: "c1", Source: bankingv1alpha1.CheckSourceReturn}
	webhook := &bankingv1alpha1.BankConnection{}
	webhook.Status.CheckRequest = &bankingv1alpha1.CheckRequest{ID: "c1", Source: bankingv1alpha1.CheckSourceAuthorized}
	tests := []struct {
		name string
		bc   *bankingv1alpha1.BankConnection
		want bool
	}{
		{"nothing handed over", &bankingv1alpha1.BankConnection{}, false},
		{"a code to redeem", handoff(&bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed"}, auth, nil), true},
		{"a code already redeemed", handoff(&bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed"}, auth, &bankingv1alpha1.JourneyOutcome{Nonce: "n1"}), false},
		{"a re-authentication link to make", handoff(&bankingv1alpha1.HandoffStatus{Nonce: "n1", Reauthenticate: reauth}, auth, nil), true},
		{"a re-authentication link already made", handoff(&bankingv1alpha1.HandoffStatus{Nonce: "n1", Reauthenticate: reauth},
			&bankingv1alpha1.AuthorizationStatus{Nonce: "n1", ReauthenticationLink: &bankingv1alpha1.ReauthenticationLink{RequestID: "r1"}}, nil), false},
		{"a re-authentication request of an older journey", handoff(&bankingv1alpha1.HandoffStatus{Nonce: "n0", Reauthenticate: reauth}, auth, nil), false},
		{"a user back from a provider that keeps the consent", returned, true},
		{"a webhook: nobody waits", webhook, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := userWaits(tc.bc); got != tc.want {
				t.Errorf("userWaits = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHandoffVerdict(t *testing.T) {
	code := &bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed", ExpiresAt: metav1.NewTime(policyNow.Add(time.Minute))}
	lapsed := &bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "sealed", ExpiresAt: metav1.NewTime(policyNow)}
	withJourney := func(nonce string) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{}
		if nonce != "" {
			bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: nonce}
		}
		return bc
	}
	tests := []struct {
		name    string
		bc      *bankingv1alpha1.BankConnection
		h       *bankingv1alpha1.HandoffStatus
		stored  bool
		result  bankingv1alpha1.JourneyResult
		decided bool
	}{
		{"stored before a crash: connected without redeeming again", withJourney(""), lapsed, true, bankingv1alpha1.JourneyConnected, true},
		{"the journey was replaced", withJourney("n2"), code, false, bankingv1alpha1.JourneyFailed, true},
		{"no journey any more", withJourney(""), code, false, bankingv1alpha1.JourneyFailed, true},
		{"the code lapsed", withJourney("n1"), lapsed, false, bankingv1alpha1.JourneyFailed, true},
		{"redeem it", withJourney("n1"), code, false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			result, msg, decided := handoffVerdict(tc.bc, tc.h, tc.stored, policyNow)
			if result != tc.result || decided != tc.decided {
				t.Errorf("handoffVerdict = %q %v (%s), want %q %v", result, decided, msg, tc.result, tc.decided)
			}
			if result == bankingv1alpha1.JourneyFailed && msg == "" {
				t.Error("a failed journey without a message for the user")
			}
		})
	}
}

func TestReauthenticationWanted(t *testing.T) {
	req := &bankingv1alpha1.ReauthenticationRequest{ID: "r1", Browser: "b"}
	open := &bankingv1alpha1.HandoffStatus{Nonce: "n1", Reauthenticate: req, ExpiresAt: metav1.NewTime(policyNow.Add(time.Minute))}
	lapsed := &bankingv1alpha1.HandoffStatus{Nonce: "n1", Reauthenticate: req, ExpiresAt: metav1.NewTime(policyNow)}
	journey := func(reauth bool, link *bankingv1alpha1.ReauthenticationLink) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{}
		bc.Status.Authorization = &bankingv1alpha1.AuthorizationStatus{Nonce: "n1", Reauthentication: reauth, ReauthenticationLink: link}
		return bc
	}
	tests := []struct {
		name string
		bc   *bankingv1alpha1.BankConnection
		h    *bankingv1alpha1.HandoffStatus
		want bool
	}{
		{"a request to answer", journey(true, nil), open, true},
		{"a new request after an answered one", journey(true, &bankingv1alpha1.ReauthenticationLink{RequestID: "r0"}), open, true},
		{"answered already", journey(true, &bankingv1alpha1.ReauthenticationLink{RequestID: "r1"}), open, false},
		{"the journey cannot re-authenticate", journey(false, nil), open, false},
		{"the request lapsed", journey(true, nil), lapsed, false},
		{"a code, not a request", journey(true, nil), &bankingv1alpha1.HandoffStatus{Nonce: "n1", Code: "c", ExpiresAt: open.ExpiresAt}, false},
		{"a request of an older journey", journey(true, nil), &bankingv1alpha1.HandoffStatus{Nonce: "n0", Reauthenticate: req, ExpiresAt: open.ExpiresAt}, false},
		{"no journey", &bankingv1alpha1.BankConnection{}, open, false},
	}
	for _, tc := range tests {
		if got := reauthenticationWanted(tc.bc, tc.h, policyNow); got != tc.want {
			t.Errorf("%s: reauthenticationWanted = %v, want %v", tc.name, got, tc.want)
		}
	}
}
