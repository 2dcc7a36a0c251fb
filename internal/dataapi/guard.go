package dataapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/apis/apiserver"
	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/authorization/authorizerfactory"
	authenticationv1 "k8s.io/client-go/kubernetes/typed/authentication/v1"
	authorizationv1 "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/client-go/rest"
)

// The permission a tenant grants with an ordinary Role: `get` (read) or `delete`
// (erase) on this subresource of BankConnections.
const (
	Group       = "banking.consent-operator.dev"
	Version     = "v1alpha1"
	Resource    = "bankconnections"
	Subresource = "data"
)

// The data API asks the apiserver who calls (TokenReview) and what it may do
// (SubjectAccessReview).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// Guard decides who may call. Both halves are the apiserver libraries' delegating
// webhooks with their caches (tokens expire after GuardCache.Token; decisions sit in
// an LRU of 8192 entries that expire after Allow or Deny), so a page loop costs one
// TokenReview and one SubjectAccessReview per cache period instead of two per page.
type Guard struct {
	Authenticator authenticator.Request
	Authorizer    authorizer.Authorizer
}

// GuardCache says how long answers are reused. An allow is reused for longer than a
// deny, so a Role just granted works soon; a Role just removed still works for up to
// Allow, and a deleted token for up to Token.
type GuardCache struct {
	Token, Allow, Deny time.Duration
}

// DefaultGuardCache keeps answers briefly: long enough that reading a history page by
// page asks the apiserver once, short enough that a revoked grant ends within a minute.
var DefaultGuardCache = GuardCache{Token: 30 * time.Second, Allow: 30 * time.Second, Deny: 10 * time.Second}

// retryBackoff is the apiserver's default for its authentication webhooks
// (k8s.io/apiserver/pkg/server/options), as controller-runtime's metrics filter uses it.
var retryBackoff = wait.Backoff{Duration: 500 * time.Millisecond, Factor: 1.5, Jitter: 0.2, Steps: 5}

// NewGuard builds the guard on the manager's apiserver connection.
func NewGuard(cfg *rest.Config, httpClient *http.Client, c GuardCache) (*Guard, error) {
	authn, err := authenticationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("data API: TokenReview client: %w", err)
	}
	authz, err := authorizationv1.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("data API: SubjectAccessReview client: %w", err)
	}
	a, _, err := authenticatorfactory.DelegatingAuthenticatorConfig{
		Anonymous:                &apiserver.AnonymousAuthConfig{Enabled: false},
		CacheTTL:                 c.Token,
		TokenAccessReviewClient:  authn,
		TokenAccessReviewTimeout: 10 * time.Second,
		WebhookRetryBackoff:      &retryBackoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("data API: authenticator: %w", err)
	}
	z, err := authorizerfactory.DelegatingAuthorizerConfig{
		SubjectAccessReviewClient: authz,
		AllowCacheTTL:             c.Allow,
		DenyCacheTTL:              c.Deny,
		WebhookRetryBackoff:       &retryBackoff,
	}.New()
	if err != nil {
		return nil, fmt.Errorf("data API: authorizer: %w", err)
	}
	return &Guard{Authenticator: a, Authorizer: z}, nil
}

// decision is what the guard says of one request.
type decision int

const (
	allowed decision = iota
	unauthenticated
	forbidden
)

// check authenticates r and asks whether its caller may verb the data of the named
// connection (or, with name "", of the whole namespace).
func (g *Guard) check(ctx context.Context, r *http.Request, verb, namespace, name string) (decision, error) {
	res, ok, err := g.Authenticator.AuthenticateRequest(r)
	if err != nil || !ok {
		// The bearer-token authenticator reports an invalid token as an error, so an
		// error is a 401 like a missing token; it is returned for the log.
		return unauthenticated, err
	}
	d, _, err := g.Authorizer.Authorize(ctx, authorizer.AttributesRecord{
		User: res.User, Verb: verb, Namespace: namespace, APIGroup: Group, APIVersion: Version,
		Resource: Resource, Subresource: Subresource, Name: name, ResourceRequest: true,
	})
	if err != nil {
		return forbidden, fmt.Errorf("subject access review: %w", err)
	}
	if d != authorizer.DecisionAllow {
		return forbidden, nil
	}
	return allowed, nil
}
