package controllers_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/testenv"
	"github.com/consent-operator/consent-operator/internal/tokensecret"
)

// v3Story holds what the chapters of TestDataAPIV3Lifecycle share: the connection
// and, once it is pending, its data connection and the filter for its provider calls.
type v3Story struct {
	bc    *bankingv1alpha1.BankConnection
	id    string
	calls sandbox.CallFilter
}

// TestDataAPIV3Lifecycle: a v3 connection waits for the user with the hosted page's
// link, polls the data connection on its schedule (no hot loop), becomes Ready when the
// user returns through the gateway (the return only triggers a check: the provider
// decides), keeps no token Secret, and deletes its data connection when deleted.
func TestDataAPIV3Lifecycle(t *testing.T) {
	ns := newNamespace(t, "v3")
	s := &v3Story{bc: newV3Connection(ns, "carol")}
	create(t, s.bc)
	chapter(t, "1 pending", s.pending)
	chapter(t, "2 no hot loop", s.noHotLoop)
	chapter(t, "3 unearned return", s.unearnedReturn)
	chapter(t, "4 consent", s.consent)
	chapter(t, "5 delete leaves data connection", s.deleteLeavesDataConnection)
}

// 1. Pending: the hosted page behind the stable connect link, refs recorded once.
func (s *v3Story) pending(t *testing.T) {
	t.Helper()
	bc := s.bc
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
	refs := bc.Status.ProviderRefs
	if refs == nil || refs.DataConnectionID == "" {
		t.Fatalf("no data connection id in status: %+v", bc.Status)
	}
	s.id = refs.DataConnectionID
	id := s.id
	if !isConnectLink(bc) ||
		!strings.Contains(bc.Status.AuthorizationURL, "/hosted/data/"+id) {
		t.Fatalf("links not published: connect=%q auth=%q", bc.Status.ConnectURL, bc.Status.AuthorizationURL)
	}
	if got := kstatusOf(t, bc); got != status.InProgressStatus {
		t.Fatalf("pending: kstatus %s, want InProgress", got)
	}
	s.calls = sandbox.CallFilter{Client: testClientID, Connection: id}
}

// 2. No hot loop: with the clock still, reconciles make no provider call and no
// write; one schedule step later exactly one check.
func (s *v3Story) noHotLoop(t *testing.T) {
	t.Helper()
	bc, v3Calls := s.bc, s.calls
	assertNoCalls(t, bc, v3Calls)
	assertNoCalls(t, bc, v3Calls)
	assertOneCheckPerStep(t, bc, v3Calls)
	if got := sb.V3ConnectionsFor(bc.Namespace, bc.Name); got != 1 {
		t.Fatalf("%d data connections created, want 1", got)
	}
}

// 3. A return the user did not earn changes nothing: an unknown connection id is
// refused, and a known one only makes the reconciler ask the provider, which
// says the connection is still pending.
func (s *v3Story) unearnedReturn(t *testing.T) {
	t.Helper()
	bc, id, v3Calls := s.bc, s.id, s.calls
	if code := getStatus(t, gatewayURL+"/callback?connection_id=00000000-0000-4000-8000-00000000dead"); code != http.StatusNotFound {
		t.Fatalf("return for an unknown connection: HTTP %d, want 404", code)
	}
	before := sb.CallTotal(v3Calls)
	if code := getStatus(t, gatewayURL+"/callback?connection_id="+url.QueryEscape(id)); code != http.StatusSeeOther {
		t.Fatalf("early return: HTTP %d, want 303 to the return URL", code)
	}
	waitFor(t, bc, func(bc *bankingv1alpha1.BankConnection) error {
		req := bc.Status.CheckRequest
		if req == nil || req.Source != bankingv1alpha1.CheckSourceReturn || bc.Status.LastHandledCheckRequest != req.ID {
			return fmt.Errorf("check request %+v not handled (%q)", req, bc.Status.LastHandledCheckRequest)
		}
		return hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization)(bc)
	})
	if got := sb.CallTotal(v3Calls) - before; got != 1 {
		t.Fatalf("the early return caused %d checks, want 1", got)
	}
}

// 4. The user consents on the hosted page; the gateway's return makes the
// reconciler check at once (the clock has not moved).
func (s *v3Story) consent(t *testing.T) {
	t.Helper()
	bc, id, v3Calls := s.bc, s.id, s.calls
	clk.Advance(11 * time.Second) // past the gateway's minimum interval between requests
	page := consentJourney(t, bc, "doe")
	if page.Status != http.StatusSeeOther || page.URL.Host != gatewayHost() || page.URL.Query().Get("connection_id") != id {
		t.Fatalf("journey ended at %s with %d, want the gateway's v3 return", page.URL, page.Status)
	}
	waitFor(t, bc, isReady)
	if got := kstatusOf(t, bc); got != status.CurrentStatus {
		t.Fatalf("ready: kstatus %s, want Current", got)
	}
	// The v3 document gives no consent end: none is recorded.
	if c := bc.Status.Consent; c == nil || c.Status != bankingv1alpha1.ConsentActive || c.ExpiresAt != nil || bc.Status.AuthorizationURL != "" {
		t.Fatalf("consent not recorded: %+v, authorizationURL %q", bc.Status.Consent, bc.Status.AuthorizationURL)
	}
	if bc.Status.ProviderRefs.DataConnectionID != id {
		t.Fatalf("data connection changed: %s -> %s", id, bc.Status.ProviderRefs.DataConnectionID)
	}
	assertNoTokenSecret(t, bc)
	assertNoCalls(t, bc, v3Calls)
}

// 5. Delete: the v3 document has no endpoint to revoke a data connection, so
// nothing is sent (it is left to expire) and the finalizer goes.
func (s *v3Story) deleteLeavesDataConnection(t *testing.T) {
	t.Helper()
	bc, id, v3Calls := s.bc, s.id, s.calls
	before := sb.CallTotal(v3Calls)
	deleteAndWait(t, bc)
	if got := sb.CallTotal(v3Calls) - before; got != 0 {
		t.Fatalf("%d provider calls on delete, want none", got)
	}
	if c, ok := sb.Connection(id); !ok || c.Status != "Authorised" {
		t.Fatalf("data connection after delete: %+v (found %v), want it left Authorised", c, ok)
	}
}

// codatStory holds what the chapters of TestCodatLifecycle share: two connections of
// one namespace (erin cancels, dave authorises) and the filter for dave's calls.
type codatStory struct {
	ns         string
	dave, erin *bankingv1alpha1.BankConnection
	daveCalls  sandbox.CallFilter
	// refs are dave's provider refs once Ready, which re-consent must keep.
	refs bankingv1alpha1.ProviderRefs
}

// TestCodatLifecycle: a Codat connection gets its company and data connection once,
// waits with the linkUrl, becomes Ready when the user authorises at Codat Link (the
// redirect's state only triggers a check), stalls with a re-consent link when the bank
// deauthorises it, comes back when the user links again, and deletes what it created.
func TestCodatLifecycle(t *testing.T) {
	ns := newNamespace(t, "codat")
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "codat-client"},
		StringData: map[string]string{"api_key": testCodatAPIKey},
	}
	create(t, creds)
	// Codat passes the link's custom parameters to the redirect configured in its
	// portal; here the gateway's callback with the state.
	codatEmu.SetRedirectURL(gatewayURL + "/callback?state={state}&statusCode={statusCode}&errorMessage={errorMessage}")
	t.Cleanup(func() { codatEmu.SetRedirectURL("") })

	s := &codatStory{ns: ns, dave: newCodatConnection(ns, "dave"), erin: newCodatConnection(ns, "erin")}
	create(t, s.dave)
	create(t, s.erin)

	chapter(t, "1 pending", s.pending)
	chapter(t, "2 no hot loop", s.noHotLoop)
	chapter(t, "3 erin cancels", s.erinCancels)
	chapter(t, "4 dave authorises", s.daveAuthorises)
	chapter(t, "5 bank deauthorises", s.bankDeauthorises)
	chapter(t, "6 dave links again", s.daveLinksAgain)
	chapter(t, "7 delete both", s.deleteBoth)
}

// 1. Pending with the connection's linkUrl; one company each.
func (s *codatStory) pending(t *testing.T) {
	t.Helper()
	ns, dave, erin := s.ns, s.dave, s.erin
	for _, bc := range []*bankingv1alpha1.BankConnection{dave, erin} {
		waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
		refs := bc.Status.ProviderRefs
		if refs == nil || refs.CodatCompanyID == "" || refs.CodatConnectionID == "" {
			t.Fatalf("%s: Codat refs not recorded: %+v", bc.Name, refs)
		}
		link, err := url.Parse(bc.Status.AuthorizationURL)
		if err != nil || !strings.HasSuffix(link.Path, "/link/companies/"+refs.CodatCompanyID+"/connections/"+refs.CodatConnectionID+"/start") ||
			link.Query().Get("state") != "" {
			// The gateway adds the state when the user opens the connect link.
			t.Fatalf("%s: authorization URL is not the connection's linkUrl without state: %q", bc.Name, bc.Status.AuthorizationURL)
		}
		if !isConnectLink(bc) {
			t.Fatalf("%s: connect URL %q", bc.Name, bc.Status.ConnectURL)
		}
		if got := kstatusOf(t, bc); got != status.InProgressStatus {
			t.Fatalf("%s pending: kstatus %s, want InProgress", bc.Name, got)
		}
		if n := companiesOf(ns, bc.Name); n != 1 {
			t.Fatalf("%s: %d Codat companies, want 1", bc.Name, n)
		}
	}
	s.daveCalls = sandbox.CallFilter{Client: "codat", Connection: dave.Status.ProviderRefs.CodatCompanyID}
}

// 2. No hot loop while pending; one check per schedule step.
func (s *codatStory) noHotLoop(t *testing.T) {
	t.Helper()
	ns, dave, daveCalls := s.ns, s.dave, s.daveCalls
	assertNoCalls(t, dave, daveCalls)
	assertOneCheckPerStep(t, dave, daveCalls)
	if n := companiesOf(ns, dave.Name); n != 1 {
		t.Fatalf("%d Codat companies after reconciles, want 1", n)
	}
}

// 3. Erin cancels at Codat Link: a page says so and nothing changes.
func (s *codatStory) erinCancels(t *testing.T) {
	t.Helper()
	erin := s.erin
	if code, _ := codatLink(t, erin.Status.ConnectURL, "cancel"); code != http.StatusForbidden {
		t.Fatalf("cancelled link: HTTP %d, want 403", code)
	}
}

// 4. Dave authorises at Codat Link; the redirect's state makes the reconciler
// check at once.
func (s *codatStory) daveAuthorises(t *testing.T) {
	t.Helper()
	dave, erin, daveCalls := s.dave, s.erin, s.daveCalls
	clk.Advance(11 * time.Second)
	code, final := codatLink(t, dave.Status.ConnectURL, "authorize")
	if code != http.StatusSeeOther || final.Host != gatewayHost() {
		t.Fatalf("link journey ended at %s with %d, want the gateway's 303 to the return URL", final, code)
	}
	waitFor(t, dave, isReady)
	if got := kstatusOf(t, dave); got != status.CurrentStatus {
		t.Fatalf("ready: kstatus %s, want Current", got)
	}
	if c := dave.Status.Consent; c == nil || c.Status != bankingv1alpha1.ConsentActive || c.ProviderID != "mock" || dave.Status.AuthorizationURL != "" {
		t.Fatalf("consent not recorded: %+v", dave.Status.Consent)
	}
	assertNoTokenSecret(t, dave)
	assertNoCalls(t, dave, daveCalls)
	waitFor(t, erin, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))
}

// 5. The bank deauthorises the connection: the hourly check stalls it with a
// re-consent link to the same connection.
func (s *codatStory) bankDeauthorises(t *testing.T) {
	t.Helper()
	dave, daveCalls := s.dave, s.daveCalls
	s.refs = *dave.Status.ProviderRefs
	refs := s.refs
	if err := codatEmu.Deauthorize(refs.CodatCompanyID, refs.CodatConnectionID); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour + time.Second)
	poke(t, dave)
	waitFor(t, dave, hasCondition(bankingv1alpha1.ConditionStalled, metav1.ConditionTrue, bankingv1alpha1.ReasonConsentRevoked))
	if err := hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionFalse, bankingv1alpha1.ReasonConsentRevoked)(dave); err != nil {
		t.Fatal(err)
	}
	if got := kstatusOf(t, dave); got != status.FailedStatus {
		t.Fatalf("stalled: kstatus %s, want Failed", got)
	}
	if dave.Status.ReconsentURL != dave.Status.ConnectURL ||
		!strings.Contains(dave.Status.AuthorizationURL, "/connections/"+refs.CodatConnectionID+"/start") ||
		*dave.Status.ProviderRefs != refs || dave.Status.Consent.Status != bankingv1alpha1.ConsentRevoked {
		t.Fatalf("no re-consent link to the same connection: reconsent=%q auth=%q refs=%+v consent=%+v",
			dave.Status.ReconsentURL, dave.Status.AuthorizationURL, dave.Status.ProviderRefs, dave.Status.Consent)
	}
	assertNoCalls(t, dave, daveCalls)
}

// 6. The user links again through the re-consent link: Ready again.
func (s *codatStory) daveLinksAgain(t *testing.T) {
	t.Helper()
	ns, dave := s.ns, s.dave
	clk.Advance(11 * time.Second)
	if code, final := codatLink(t, dave.Status.ReconsentURL, "authorize"); code != http.StatusSeeOther || final.Host != gatewayHost() {
		t.Fatalf("re-consent ended at %s with %d", final, code)
	}
	waitFor(t, dave, isReady)
	if n := companiesOf(ns, dave.Name); n != 1 {
		t.Fatalf("%d Codat companies after re-consent, want 1", n)
	}
}

// 7. Delete: erin's data connection goes (her company stays); dave asked for his
// whole company to go.
func (s *codatStory) deleteBoth(t *testing.T) {
	t.Helper()
	dave, erin, refs := s.dave, s.erin, s.refs
	erinRefs := *erin.Status.ProviderRefs
	deleteAndWait(t, erin)
	co, err := codatEmu.Company(erinRefs.CodatCompanyID)
	if err != nil {
		t.Fatalf("erin's company: %v", err)
	}
	for _, c := range co.Connections {
		if c.ID == erinRefs.CodatConnectionID {
			t.Fatalf("erin's data connection survived the delete: %+v", c)
		}
	}
	annotate(t, dave, map[string]string{bankingv1alpha1.AnnotationCodatDeleteCompany: "true"})
	deleteAndWait(t, dave)
	if _, err := codatEmu.Company(refs.CodatCompanyID); err == nil {
		t.Fatalf("dave's company survived the delete")
	}
}

func newCodatConnection(ns, name string) *bankingv1alpha1.BankConnection {
	bc := providerConnection(ns, name, bankingv1alpha1.ProviderCodat, "codat-client")
	bc.Spec.ProviderID = "mock"
	return bc
}

// assertNoCalls pokes bc and checks that the reconcile makes no provider call (of
// those f selects) and writes nothing.
func assertNoCalls(t *testing.T, bc *bankingv1alpha1.BankConnection, f sandbox.CallFilter) {
	t.Helper()
	calls := sb.CallTotal(f)
	poke(t, bc)
	rv := bc.ResourceVersion
	testenv.Consistently(t, 1500*time.Millisecond, func() error {
		var now bankingv1alpha1.BankConnection
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(bc), &now); err != nil {
			return err
		}
		if now.ResourceVersion != rv {
			return fmt.Errorf("written with nothing due (resourceVersion %s -> %s)", rv, now.ResourceVersion)
		}
		if got := sb.CallTotal(f); got != calls {
			return fmt.Errorf("%d provider calls with nothing due: %+v", got-calls, sb.Calls(f))
		}
		return nil
	})
}

// assertOneCheckPerStep moves the clock one schedule step (30s) and checks the
// reconcile makes exactly one provider check, and then none while the clock stands.
func assertOneCheckPerStep(t *testing.T, bc *bankingv1alpha1.BankConnection, calls sandbox.CallFilter) {
	t.Helper()
	before := sb.CallTotal(calls)
	clk.Advance(31 * time.Second)
	poke(t, bc)
	testenv.Eventually(t, 10*time.Second, func() error {
		if got := sb.CallTotal(calls); got != before+1 {
			return fmt.Errorf("%d checks after one schedule step, want 1", got-before)
		}
		return nil
	})
	assertNoCalls(t, bc, calls)
}

func assertNoTokenSecret(t *testing.T, bc *bankingv1alpha1.BankConnection) {
	t.Helper()
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: bc.Namespace, Name: tokensecret.Name(bc)}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("a consent the provider keeps has a token Secret (err %v)", err)
	}
}

func deleteAndWait(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Delete(context.Background(), obj); err != nil {
		t.Fatalf("deleting %s: %v", obj.GetName(), err)
	}
	testenv.Eventually(t, 30*time.Second, func() error {
		err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("%s still there (err %v)", obj.GetName(), err)
	})
}

// companiesOf counts the emulator's companies created for one BankConnection.
func companiesOf(ns, name string) int {
	n := 0
	for _, c := range codatEmu.Companies() {
		if strings.Contains(c.Description, "BankConnection "+ns+"/"+name+" ") {
			n++
		}
	}
	return n
}

func getStatus(t *testing.T, u string) int {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)

// codatLink plays the user at Codat Link over real HTTP: it opens start (a connect or
// re-consent link on the gateway), presses the consent page's button (decision
// "authorize" or "cancel") and follows the redirects, stopping before the
// application's return URL. It returns the last response's status and URL.
func codatLink(t *testing.T, start, decision string) (int, *url.URL) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host == "localhost:3000" || len(via) >= 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(start)
	if err != nil {
		t.Fatalf("GET %s: %v", start, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := formAction.FindStringSubmatch(string(body))
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("Codat Link consent page: HTTP %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	resp, err = c.PostForm(action.String(), url.Values{"decision": {decision}})
	if err != nil {
		t.Fatalf("POST %s: %v", action.Redacted(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Request.URL
}
