package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/internal/scheme"
)

// Client credentials registered at the sandbox and stored in every namespace.
const (
	ClientID         = "scale-operator"
	ClientSecret     = "scale-operator-secret"
	CredentialsName  = "truelayer-client"
	callbackPath     = "/callback"
	returnURL        = "http://localhost:3000/done"
	maxIdlePerClient = 64
)

// Scopes every harness connection asks for.
var Scopes = []bankingv1alpha1.Scope{bankingv1alpha1.ScopeInfo, bankingv1alpha1.ScopeAccounts,
	bankingv1alpha1.ScopeBalance, bankingv1alpha1.ScopeTransactions, bankingv1alpha1.ScopeOfflineAccess}

// CallbackURL is the gateway's OAuth redirect URI for a gateway public URL.
func CallbackURL(gatewayURL string) string { return strings.TrimRight(gatewayURL, "/") + callbackPath }

// NewHTTPClient is a client for many concurrent requests to one host that shows
// redirects instead of following them.
func NewHTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxIdlePerClient
	return &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// PrepareNamespace creates ns and the client credentials Secret in it.
func PrepareNamespace(ctx context.Context, c client.Client, ns string) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	creds := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: CredentialsName},
		StringData: map[string]string{"client_id": ClientID, "client_secret": ClientSecret},
	}
	if err := c.Create(ctx, creds); err != nil {
		return fmt.Errorf("creating client Secret in %s: %w", ns, err)
	}
	return nil
}

// NewConnection is the BankConnection every harness user has.
func NewConnection(ns, name string) *bankingv1alpha1.BankConnection {
	return &bankingv1alpha1.BankConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: bankingv1alpha1.BankConnectionSpec{
			Provider:        bankingv1alpha1.ProviderTrueLayer,
			ClientSecretRef: bankingv1alpha1.SecretReference{Name: CredentialsName},
			Providers:       []string{"uk-cs-mock"},
			Scopes:          Scopes,
			UserRef:         "user-" + name,
			Redirect:        &bankingv1alpha1.RedirectSpec{ReturnURL: returnURL},
		},
	}
}

// ConnectionName is the name of connection i.
func ConnectionName(i int) string { return fmt.Sprintf("conn-%05d", i) }

// Parallel runs fn(i) for i in [0, n) on workers goroutines and returns the first error.
func Parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// Users plays the end users: whenever a BankConnection publishes an authorization
// link, a user completes the mock bank's dialog (sandbox Authorize, which issues the
// code the dialog would) and the browser lands on the gateway's callback over HTTP.
// It also watches the connections so the harness can wait for conditions.
type Users struct {
	SB          *Sandbox
	GatewayURL  string
	Concurrency int
	// Observe, when set, sees every version of every BankConnection the watch
	// delivers (the fault suite records which connections reported what).
	Observe func(*bankingv1alpha1.BankConnection)

	cache cache.Cache
	http  *http.Client
	queue workqueue.TypedDelayingInterface[types.NamespacedName]
	// handled holds the journeys whose callback succeeded or was refused for good.
	handled sync.Map
	// reloads counts, per journey, the reloads of a link the gateway did not know yet;
	// reloading marks the connection whose retry is such a reload.
	reloads, reloading sync.Map

	// CallbackAt holds, by connection name, when the gateway accepted its callback.
	CallbackAt sync.Map
	// Completed counts consent journeys the gateway accepted.
	Completed atomic.Int64
	// Reloaded counts connect links opened again because the gateway's cache did not
	// show them yet.
	Reloaded atomic.Int64
	// Retried counts callbacks answered 5xx or not answered (retried after a second).
	Retried atomic.Int64
}

// StartUsers starts watching BankConnections in ns and completing their consents.
func StartUsers(ctx context.Context, cfg *rest.Config, ns string, u *Users) error {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme.New(), DefaultNamespaces: map[string]cache.Config{ns: {}}})
	if err != nil {
		return fmt.Errorf("creating watch cache: %w", err)
	}
	inf, err := c.GetInformer(ctx, &bankingv1alpha1.BankConnection{})
	if err != nil {
		return fmt.Errorf("watching BankConnections: %w", err)
	}
	u.cache = c
	u.http = NewHTTPClient(30 * time.Second)
	u.queue = workqueue.NewTypedDelayingQueue[types.NamespacedName]()
	enqueue := func(obj any) {
		bc, ok := obj.(*bankingv1alpha1.BankConnection)
		if !ok {
			return
		}
		if u.Observe != nil {
			u.Observe(bc)
		}
		if bc.Status.AuthorizationURL != "" {
			u.queue.Add(types.NamespacedName{Namespace: bc.Namespace, Name: bc.Name})
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return fmt.Errorf("adding event handler: %w", err)
	}
	go func() { _ = c.Start(ctx) }() // stops with ctx
	if !c.WaitForCacheSync(ctx) {
		return fmt.Errorf("watch cache did not sync")
	}
	go func() { <-ctx.Done(); u.queue.ShutDown() }()
	for i := 0; i < u.Concurrency; i++ {
		go u.work(ctx)
	}
	return nil
}

func (u *Users) work(ctx context.Context) {
	for {
		key, shutdown := u.queue.Get()
		if shutdown {
			return
		}
		retry := u.consent(ctx, key)
		u.queue.Done(key)
		switch _, reloading := u.reloading.LoadAndDelete(key); {
		case !retry || ctx.Err() != nil:
		case reloading:
			u.Reloaded.Add(1)
			u.queue.AddAfter(key, reloadDelay)
		default:
			u.Retried.Add(1)
			u.queue.AddAfter(key, time.Second)
		}
	}
}

// consent completes the journey of the link bc currently publishes, as a browser
// would: it opens status.connectURL (which sets the gateway's cookie and redirects to
// the provider with a state bound to it), lets the sandbox issue the code the mock
// bank's dialog would (with the link's PKCE challenge), and returns to the callback
// with the cookie. It reports whether to try again later.
func (u *Users) consent(ctx context.Context, key types.NamespacedName) bool {
	bc := &bankingv1alpha1.BankConnection{}
	if err := u.cache.Get(ctx, key, bc); err != nil || bc.Status.ConnectURL == "" || bc.Status.Authorization == nil {
		return false
	}
	journey := bc.Status.Authorization.Nonce
	if _, done := u.handled.Load(journey); done {
		return false
	}
	resp, err := u.do(ctx, bc.Status.ConnectURL, nil)
	if err != nil {
		return true
	}
	cookies := resp.Cookies()
	if resp.StatusCode == http.StatusSeeOther {
		// A re-authentication journey: the gateway's waiting page sends the browser on
		// to the provider's link once the reconciler has made it (or to a full journey
		// when the provider cannot re-authenticate, as after a lost refresh token).
		if resp, err = u.followReauth(ctx, bc.Status.ConnectURL, resp, cookies); err != nil {
			return true
		}
	}
	link, err := url.Parse(resp.Header.Get("Location"))
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true
	case resp.StatusCode == http.StatusNotFound && u.reload(journey):
		// The gateway's cache may not show a link published a moment ago: the user
		// reloads, as a person would, a few times.
		u.reloading.Store(key, true)
		return true
	case resp.StatusCode != http.StatusFound || err != nil:
		u.handled.Store(journey, true) // used, superseded or expired: a new link follows if needed
		return false
	}
	q := link.Query()
	code, err := u.SB.Authorize(sandbox.AuthorizeRequest{
		ClientID: q.Get("client_id"), RedirectURI: q.Get("redirect_uri"), Scopes: strings.Fields(q.Get("scope")),
		CodeChallenge: q.Get("code_challenge"), Label: key.Name,
	})
	if err != nil {
		return false // not a link of this sandbox's clients: nothing a user could do
	}
	resp, err = u.do(ctx, CallbackURL(u.GatewayURL)+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), cookies)
	if err != nil {
		return true
	}
	switch {
	case resp.StatusCode == http.StatusSeeOther:
		u.handled.Store(journey, true)
		u.CallbackAt.Store(key.Name, time.Now())
		u.Completed.Add(1)
		return false
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return true
	default:
		u.handled.Store(journey, true)
		return false
	}
}

// followReauth opens the gateway's /reauth/{ticket} page a /connect answer redirected
// to, with the browser's cookie, and returns its answer: a redirect to the provider.
func (u *Users) followReauth(ctx context.Context, connectURL string, resp *http.Response, cookies []*http.Cookie) (*http.Response, error) {
	base, err := url.Parse(connectURL)
	if err != nil {
		return nil, err
	}
	next, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(next.Path, "/reauth/") {
		return resp, err // not a re-authentication: the caller decides
	}
	return u.do(ctx, next.String(), cookies)
}

// maxReloads is how often a user reloads a connect link the gateway does not know
// yet, reloadDelay how long they wait first (a person's reaction, not a backoff).
const (
	maxReloads  = 10
	reloadDelay = 200 * time.Millisecond
)

// reload counts a reload of journey's link, false once the user gives up.
func (u *Users) reload(journey string) bool {
	n, _ := u.reloads.LoadOrStore(journey, new(atomic.Int32))
	return n.(*atomic.Int32).Add(1) <= maxReloads
}

// do sends a GET with cookies and drops the body.
func (u *Users) do(ctx context.Context, target string, cookies []*http.Cookie) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := u.http.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	return resp, nil
}

// Count returns how many connections in the cache satisfy pred.
func (u *Users) Count(ctx context.Context, pred func(*bankingv1alpha1.BankConnection) bool) (int, error) {
	list := &bankingv1alpha1.BankConnectionList{}
	if err := u.cache.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		return 0, fmt.Errorf("listing BankConnections: %w", err)
	}
	n := 0
	for i := range list.Items {
		if pred(&list.Items[i]) {
			n++
		}
	}
	return n, nil
}

// List returns the connections in the cache (copies).
func (u *Users) List(ctx context.Context) ([]bankingv1alpha1.BankConnection, error) {
	list := &bankingv1alpha1.BankConnectionList{}
	if err := u.cache.List(ctx, list); err != nil {
		return nil, fmt.Errorf("listing BankConnections: %w", err)
	}
	return list.Items, nil
}

// WaitCount waits until at least n connections satisfy pred, checking every 200 ms;
// progress (if not nil) is called every 10 s with the current count.
func (u *Users) WaitCount(ctx context.Context, n int, timeout time.Duration, pred func(*bankingv1alpha1.BankConnection) bool, progress func(int)) error {
	deadline := time.Now().Add(timeout)
	lastReport := time.Now()
	for {
		got, err := u.Count(ctx, pred)
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d connections after %s", got, n, timeout)
		}
		if progress != nil && time.Since(lastReport) >= 10*time.Second {
			progress(got)
			lastReport = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// IsReady is true for a connection Ready because its consent is authorized.
func IsReady(bc *bankingv1alpha1.BankConnection) bool {
	c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == bankingv1alpha1.ReasonAuthorized &&
		c.ObservedGeneration == bc.Generation && bc.Status.ObservedGeneration == bc.Generation
}

// StalledReason returns the reason of a True Stalled condition, "" when not stalled.
func StalledReason(bc *bankingv1alpha1.BankConnection) string {
	c := apimeta.FindStatusCondition(bc.Status.Conditions, bankingv1alpha1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue {
		return ""
	}
	return c.Reason
}
