package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/journey"
	"github.com/consent-operator/consent-operator/internal/sandbox"
	"github.com/consent-operator/consent-operator/test/scale/harness"
)

// floor is the least work any implementation must do to bring one connection from
// created to Ready: the same BankConnection create and user step as the operator
// run, then the code exchange and the consent read at the provider (/me: status
// must show the consent's end), one Secret create and one status write. No
// reconcile loop, no cache, no events: the lower bound the operator is compared with.
//
// With sameGuarantees it is the fair floor: it also makes the writes the product's
// guarantees need, with the least work: the finalizer (the consent is revoked on
// delete), the first-touch status with the published link (Ready=Unknown, which
// kstatus and `kubectl wait` need, and where the user's link appears), then the token
// Secret and the Ready status. Five writes including the create.
type floor struct {
	sameGuarantees bool
	c              client.Client
	sb             *harness.Sandbox
	gatewayURL     string
	limiter        *rate.Limiter
	http           *http.Client
}

const floorLabel = "scale.consent-operator.dev/floor"

func (f *floor) connect(ctx context.Context, ns string, i int) error {
	bc := harness.NewConnection(ns, harness.ConnectionName(i))
	if err := f.c.Create(ctx, bc); err != nil {
		return fmt.Errorf("floor: creating %s: %w", bc.Name, err)
	}
	if f.sameGuarantees {
		if err := f.firstTouch(ctx, bc); err != nil {
			return err
		}
	}
	scopes := make([]string, len(bc.Spec.Scopes))
	for j, s := range bc.Spec.Scopes {
		scopes[j] = string(s)
	}
	redirect := harness.CallbackURL(f.gatewayURL)
	code, err := f.sb.Authorize(sandbox.AuthorizeRequest{ClientID: harness.ClientID, RedirectURI: redirect, Scopes: scopes})
	if err != nil {
		return fmt.Errorf("floor: authorize: %w", err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
		TokenType    string `json:"token_type"`
		Scope        string `json:"scope"`
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect},
		"client_id": {harness.ClientID}, "client_secret": {harness.ClientSecret}}
	if err := f.call(ctx, http.MethodPost, "/connect/token", strings.NewReader(form.Encode()), "", &tok); err != nil {
		return err
	}
	var me struct {
		Results []struct {
			ConsentCreatedAt time.Time `json:"consent_created_at"`
			ConsentExpiresAt time.Time `json:"consent_expires_at"`
		} `json:"results"`
	}
	if err := f.call(ctx, http.MethodGet, "/data/v1/me", nil, tok.AccessToken, &me); err != nil {
		return err
	}
	if len(me.Results) == 0 {
		return fmt.Errorf("floor: /me returned no result")
	}
	now := time.Now()
	expires := now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: bc.Name + "-token", Labels: map[string]string{floorLabel: "true"}},
		Type:       bankingv1alpha1.SecretTypeToken,
		StringData: map[string]string{"access_token": tok.AccessToken, "refresh_token": tok.RefreshToken,
			"token_type": tok.TokenType, "scope": tok.Scope, "expires_at": expires.UTC().Format(time.RFC3339)},
	}
	if err := f.c.Create(ctx, secret); err != nil {
		return fmt.Errorf("floor: creating token Secret: %w", err)
	}
	bc.Status = bankingv1alpha1.BankConnectionStatus{
		ObservedGeneration: bc.Generation,
		Conditions: []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionTrue,
			Reason: bankingv1alpha1.ReasonAuthorized, Message: "Consent active", ObservedGeneration: bc.Generation,
			LastTransitionTime: metav1.NewTime(now)}},
		Consent: &bankingv1alpha1.ConsentStatus{Status: bankingv1alpha1.ConsentActive,
			CreatedAt: &metav1.Time{Time: me.Results[0].ConsentCreatedAt}, ExpiresAt: &metav1.Time{Time: me.Results[0].ConsentExpiresAt}},
	}
	if err := f.c.Status().Update(ctx, bc); err != nil {
		return fmt.Errorf("floor: writing status: %w", err)
	}
	return nil
}

// firstTouch adds the finalizer and publishes the link with Ready=Unknown: two writes.
func (f *floor) firstTouch(ctx context.Context, bc *bankingv1alpha1.BankConnection) error {
	bc.Finalizers = append(bc.Finalizers, bankingv1alpha1.FinalizerRevoke)
	if err := f.c.Update(ctx, bc); err != nil {
		return fmt.Errorf("floor: adding the finalizer to %s: %w", bc.Name, err)
	}
	secret, err := journey.NewLinkSecret()
	if err != nil {
		return err
	}
	now := metav1.Now()
	bc.Status = bankingv1alpha1.BankConnectionStatus{
		ObservedGeneration: bc.Generation,
		Conditions: []metav1.Condition{{Type: bankingv1alpha1.ConditionReady, Status: metav1.ConditionUnknown,
			Reason: bankingv1alpha1.ReasonAwaitingAuthorization, Message: "Waiting for the user", ObservedGeneration: bc.Generation,
			LastTransitionTime: now}},
		ConnectURL: f.gatewayURL + "/connect/" + secret,
	}
	if err := f.c.Status().Update(ctx, bc); err != nil {
		return fmt.Errorf("floor: publishing the link of %s: %w", bc.Name, err)
	}
	return nil
}

// maxBody bounds what the floor reads from the sandbox.
const maxBody = 1 << 20

func (f *floor) call(ctx context.Context, method, path string, body io.Reader, bearer string, out any) error {
	if err := f.limiter.Wait(ctx); err != nil {
		return fmt.Errorf("floor: rate limiter: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.sb.URL+path, body)
	if err != nil {
		return fmt.Errorf("floor: building %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return fmt.Errorf("floor: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("floor: reading %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("floor: %s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("floor: decoding %s %s: %w", method, path, err)
	}
	return nil
}
