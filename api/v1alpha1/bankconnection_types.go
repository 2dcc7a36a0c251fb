package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Provider names the open-banking provider a connection goes through.
// +kubebuilder:validation:Enum=TrueLayer;Codat
type Provider string

const (
	ProviderTrueLayer Provider = "TrueLayer"
	ProviderCodat     Provider = "Codat"
)

// Environment selects the provider's sandbox or live hosts.
// +kubebuilder:validation:Enum=Sandbox;Live
type Environment string

const (
	EnvironmentSandbox Environment = "Sandbox"
	EnvironmentLive    Environment = "Live"
)

// DataAPI selects which TrueLayer data API the connection uses.
// +kubebuilder:validation:Enum=V1;V3;SignupPlus
type DataAPI string

const (
	DataAPIV1         DataAPI = "V1"
	DataAPIV3         DataAPI = "V3"
	DataAPISignupPlus DataAPI = "SignupPlus"
)

// Scope is a permission the end user is asked to grant.
// +kubebuilder:validation:Enum=info;accounts;balance;transactions;cards;direct_debits;standing_orders;offline_access;signupplus
type Scope string

const (
	ScopeInfo           Scope = "info"
	ScopeAccounts       Scope = "accounts"
	ScopeBalance        Scope = "balance"
	ScopeTransactions   Scope = "transactions"
	ScopeCards          Scope = "cards"
	ScopeDirectDebits   Scope = "direct_debits"
	ScopeStandingOrders Scope = "standing_orders"
	ScopeOfflineAccess  Scope = "offline_access"
	ScopeSignupPlus     Scope = "signupplus"
)

// DataAccess says whether the consent is for one read or for recurring access.
// +kubebuilder:validation:Enum=OneTime;Recurring
type DataAccess string

const (
	DataAccessOneTime   DataAccess = "OneTime"
	DataAccessRecurring DataAccess = "Recurring"
)

// RefreshPolicy says when the access token is refreshed.
// +kubebuilder:validation:Enum=KeepFresh;OnDemand
type RefreshPolicy string

const (
	// RefreshPolicyKeepFresh refreshes the access token before it expires, so the Secret always holds a usable token.
	RefreshPolicyKeepFresh RefreshPolicy = "KeepFresh"
	// RefreshPolicyOnDemand refreshes only when a SyncJob needs a token, and otherwise just often enough that the refresh token does not go unused past the provider's limit.
	RefreshPolicyOnDemand RefreshPolicy = "OnDemand"
)

// BankConnectionSpec is the desired state of one end user's consent at one bank.
//
// +kubebuilder:validation:XValidation:rule="(has(self.environment) ? self.environment : 'Sandbox') == (has(oldSelf.environment) ? oldSelf.environment : 'Sandbox')",message="environment is immutable: create a new BankConnection to change it"
// +kubebuilder:validation:XValidation:rule="(has(self.dataAPI) ? self.dataAPI : 'V1') == (has(oldSelf.dataAPI) ? oldSelf.dataAPI : 'V1')",message="dataAPI is immutable: create a new BankConnection to change it"
// +kubebuilder:validation:XValidation:rule="!has(self.dataAPI) || self.provider == 'TrueLayer'",message="dataAPI is only valid with provider TrueLayer"
// +kubebuilder:validation:XValidation:rule="!has(self.companyName) || self.provider == 'Codat'",message="companyName is only valid with provider Codat"
// +kubebuilder:validation:XValidation:rule="self.provider != 'TrueLayer' || (has(self.scopes) && size(self.scopes) > 0)",message="scopes are required with provider TrueLayer"
// +kubebuilder:validation:XValidation:rule="!has(self.scopes) || !has(self.dataAPI) || self.dataAPI != 'V3' || self.scopes.all(s, s in ['info', 'accounts', 'transactions'])",message="scopes: Data API V3 allows only info, accounts and transactions"
// +kubebuilder:validation:XValidation:rule="!has(self.dataAPI) || self.dataAPI != 'SignupPlus' || (has(self.scopes) && 'signupplus' in self.scopes)",message="scopes: dataAPI SignupPlus needs the signupplus scope"
// +kubebuilder:validation:XValidation:rule="!has(self.scopes) || !has(self.dataAccess) || self.dataAccess != 'OneTime' || !('offline_access' in self.scopes)",message="scopes: offline_access contradicts dataAccess OneTime"
// +kubebuilder:validation:XValidation:rule="(has(self.tokenSecret) && has(self.tokenSecret.name) ? self.tokenSecret.name : '-') == (has(oldSelf.tokenSecret) && has(oldSelf.tokenSecret.name) ? oldSelf.tokenSecret.name : '-')",message="tokenSecret.name is immutable: the tokens live in that Secret"
type BankConnectionSpec struct {
	// Provider is the open-banking provider the connection goes through.
	// +required
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="provider is immutable: create a new BankConnection to change it"
	Provider Provider `json:"provider"`

	// Environment selects the provider's Sandbox or Live hosts.
	// Unset means Sandbox.
	// The manager's --truelayer-*-url and --codat-url flags override both.
	// +optional
	Environment Environment `json:"environment,omitempty"`

	// DataAPI selects the TrueLayer data API: V1 (per-user OAuth tokens), V3 (client-credentials token plus a data connection) or SignupPlus (identity).
	// Unset means V1.
	// Only valid with provider TrueLayer.
	// +optional
	DataAPI DataAPI `json:"dataAPI,omitempty"`

	// ClientSecretRef names a Secret in the connection's namespace holding the provider credentials: client_id and client_secret for TrueLayer, api_key for Codat.
	// +required
	ClientSecretRef SecretReference `json:"clientSecretRef"`

	// ProviderID is the bank (TrueLayer provider id, Codat source key).
	// When set, the user skips bank selection.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._-]+$`
	ProviderID string `json:"providerID,omitempty"`

	// Providers filters the banks offered during bank selection, for example "uk-ob-all" or "uk-cs-mock".
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9-]+$`
	Providers []string `json:"providers,omitempty"`

	// BankSelection says who shows the user the list of banks.
	// Provider (the default): the provider's own screen.
	// Application: the application's own screen, fed by the gateway's /connect/{secret}/banks (JSON, from status.banks); the user's choice is passed as /connect/{secret}?bank=<id>.
	// Application is offered for TrueLayer Data API v1 and Signup+, whose bank list is public.
	// +optional
	// +kubebuilder:default=Provider
	BankSelection BankSelection `json:"bankSelection,omitempty"`

	// Scopes are the permissions the user is asked to grant.
	// Required for TrueLayer. balance and transactions need accounts or cards; standing_orders and direct_debits need accounts.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=9
	// +kubebuilder:validation:XValidation:rule="!self.exists(s, s in ['balance', 'transactions']) || self.exists(s, s in ['accounts', 'cards'])",message="balance and transactions need the accounts or cards scope"
	// +kubebuilder:validation:XValidation:rule="!self.exists(s, s in ['standing_orders', 'direct_debits']) || 'accounts' in self",message="standing_orders and direct_debits need the accounts scope"
	Scopes []Scope `json:"scopes,omitempty"`

	// DataAccess asks for a one-time read or for recurring access.
	// Unset means Recurring.
	// +optional
	DataAccess DataAccess `json:"dataAccess,omitempty"`

	// UserRef is the application's stable id of the end user.
	// It is carried in the signed OAuth state and stored with every row, so data stays attributed to the same user across re-consents.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9._:@+-]+$`
	UserRef string `json:"userRef"`

	// CompanyName is the name of the business whose bank account this is, as the end user gives it (Codat only: its company stands for the end customer, Codat recommends capturing the company's name, and Codat Link shows it to the user).
	// Unset means "<namespace>-<name>"; userRef is an id, not a name.
	// Characters Codat does not allow become '-'.
	// It names the company when it is created.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	CompanyName string `json:"companyName,omitempty"`
	// Redirect says where the user goes after the consent journey.
	// +optional
	Redirect *RedirectSpec `json:"redirect,omitempty"`

	// TokenSecret configures the Secret the tokens are kept in.
	// +optional
	TokenSecret *TokenSecretSpec `json:"tokenSecret,omitempty"`

	// Refresh configures when access tokens are refreshed.
	// +optional
	Refresh *RefreshSpec `json:"refresh,omitempty"`

	// Reconsent configures the warning before the consent ends and its extension.
	// +optional
	Reconsent *ReconsentSpec `json:"reconsent,omitempty"`

	// Suspend stops all provider calls for this connection; tokens may then expire.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// DataRetention says what happens to the connection's stored data when it is deleted.
	// Delete (the default) erases every row fetched through it, inside the finalizer, before the object goes.
	// Retain leaves the rows in the store.
	// +optional
	// +kubebuilder:default=Delete
	DataRetention DataRetention `json:"dataRetention,omitempty"`

	// Notifications names where signed events about this connection and its SyncJobs are sent.
	// Unset means the namespace's default (the ConfigMap consent-operator-notifications), if any.
	// +optional
	Notifications *NotificationSpec `json:"notifications,omitempty"`
}

// SecretReference names a Secret in the same namespace.
type SecretReference struct {
	// Name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// SecretKeyReference names one key of a Secret in the same namespace.
type SecretKeyReference struct {
	// Name is the Secret's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// Key is the key within the Secret.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// RedirectSpec says where the user is sent after the consent journey.
type RedirectSpec struct {
	// ReturnURL is where the user lands after consenting.
	// It must be https (http is allowed only for localhost).
	// Unset shows a plain success page.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && (url(self).getScheme() == 'https' || (url(self).getScheme() == 'http' && url(self).getHostname() in ['localhost', '127.0.0.1', '::1']))",message="returnURL must be an absolute https URL (http only for localhost)"
	ReturnURL string `json:"returnURL,omitempty"`
}

// TokenSecretSpec configures the Secret that holds the tokens.
type TokenSecretSpec struct {
	// Name of the token Secret.
	// Unset means "<connection name>-token".
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name,omitempty"`

	// EncryptionKeyRef names a 32-byte key (raw or base64) used to encrypt the token values with AES-256-GCM before they are written to the Secret.
	// +optional
	EncryptionKeyRef *SecretKeyReference `json:"encryptionKeyRef,omitempty"`
}

// RefreshSpec configures token refresh.
type RefreshSpec struct {
	// Policy is KeepFresh (default) or OnDemand.
	// +optional
	Policy RefreshPolicy `json:"policy,omitempty"`

	// RenewBefore is how long before the access token expires it is refreshed (KeepFresh).
	// Between 1m and 50m; unset means 10m.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m') && duration(self) <= duration('50m')",message="renewBefore must be between 1m and 50m"
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// ReconsentSpec configures the warning before the consent ends.
//
// +kubebuilder:validation:XValidation:rule="!has(self.autoExtend) || !self.autoExtend || has(self.userSecretRef)",message="autoExtend needs userSecretRef: the provider requires the user's name and email or phone to extend a consent"
type ReconsentSpec struct {
	// NotifyBefore is how long before the consent expires ConsentExpiring becomes True and a re-consent link is published.
	// Between 1h and 89 days; unset means 7 days.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1h') && duration(self) <= duration('2136h')",message="notifyBefore must be between 1h and 2136h (89 days)"
	NotifyBefore *metav1.Duration `json:"notifyBefore,omitempty"`

	// AutoExtend calls the provider's consent extension inside the warning window where the provider allows it (TrueLayer /connections/extend, UK banks).
	// +optional
	AutoExtend bool `json:"autoExtend,omitempty"`

	// UserSecretRef names a Secret with the end user's details the provider needs to extend a consent: keys name, and email or phone.
	// They live in a Secret, not in the spec, because they are personal data.
	// +optional
	UserSecretRef *SecretReference `json:"userSecretRef,omitempty"`
}

// BankConnectionStatus is the observed state of a BankConnection.
type BankConnectionStatus struct {
	// ObservedGeneration is the generation of the spec this status describes.
	// Written by the BankConnection reconciler.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are Ready, Reconciling, Stalled and ConsentExpiring, as the README's conditions table describes.
	// Written by the BankConnection reconciler, derived in one place from what its reconcile found.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// AuthorizationURL is the provider's auth link for the current journey, without the OAuth state: on its own it completes nothing.
	// The gateway adds a state bound to the user's browser when the user opens status.connectURL.
	// Written by the BankConnection reconciler.
	// +optional
	AuthorizationURL string `json:"authorizationURL,omitempty"`

	// ConnectURL is the link to hand to the user: the gateway's /connect/{secret}, where the secret is the current journey's (status.authorization.nonce).
	// It changes whenever a journey starts, and stops working when the journey is used, superseded or expires.
	// Written by the BankConnection reconciler.
	// +optional
	ConnectURL string `json:"connectURL,omitempty"`

	// Authorization is the consent journey the user can start now.
	// Written by the BankConnection reconciler.
	// +optional
	Authorization *AuthorizationStatus `json:"authorization,omitempty"`

	// Handoff is what the gateway received from the provider at the end of a journey: the authorization code, sealed for the reconciler.
	// The gateway writes it with an optimistic lock that also makes each journey usable once.
	// Written by the gateway.
	// +optional
	Handoff *HandoffStatus `json:"handoff,omitempty"`

	// CheckRequest asks the reconciler to check the consent at the provider now: the user came back from a provider that keeps the consent, or a verified provider webhook said the consent changed.
	// The reconciler acts on each request once (status.lastHandledCheckRequest).
	// Written by the gateway.
	// +optional
	CheckRequest *CheckRequest `json:"checkRequest,omitempty"`

	// LastHandledCheckRequest is the id of the last status.checkRequest the reconciler acted on.
	// Written by the BankConnection reconciler.
	// +optional
	LastHandledCheckRequest string `json:"lastHandledCheckRequest,omitempty"`

	// Banks are the banks the user can choose from, published with the journey when spec.bankSelection is Application.
	// Written by the BankConnection reconciler.
	// +optional
	// +listType=map
	// +listMapKey=id
	// +kubebuilder:validation:MaxItems=500
	Banks []Bank `json:"banks,omitempty"`

	// LastJourney is the outcome of the last journey the reconciler finished, which the page the user waits on shows.
	// Written by the BankConnection reconciler.
	// +optional
	LastJourney *JourneyOutcome `json:"lastJourney,omitempty"`

	// Consent describes the consent granted at the provider.
	// Written by the BankConnection reconciler.
	// +optional
	Consent *ConsentStatus `json:"consent,omitempty"`

	// Token is the refresh bookkeeping while refreshes fail (never a token's value); empty while they succeed.
	// Written by the BankConnection reconciler.
	// +optional
	Token *TokenStatus `json:"token,omitempty"`

	// ReconsentURL is where the user renews the consent, published inside the warning window or when re-authorization is required.
	// Written by the BankConnection reconciler.
	// +optional
	ReconsentURL string `json:"reconsentURL,omitempty"`

	// Accounts are the accounts and cards discovered at the bank.
	// Written by the SyncJob controller only, when a run stores the accounts or cards it fetched, on the latest object under an optimistic lock.
	// +optional
	// +listType=map
	// +listMapKey=id
	Accounts []AccountStatus `json:"accounts,omitempty"`

	// UnattendedCalls is the ledger of data calls made without the user present, per account and endpoint, over the last 24 hours.
	// It enforces the regulatory limit of four such calls across all SyncJobs of this connection.
	// Written only as a reservation made before the calls are sent, on the latest object under an optimistic lock: by the SyncJob controller for a run's calls, and by the BankConnection reconciler for the one call of its check of a consent the provider keeps (Data API v3); the BankConnection reconciler's own status patch leaves it alone.
	// +optional
	// +listType=map
	// +listMapKey=accountID
	// +listMapKey=endpoint
	UnattendedCalls []UnattendedCallEntry `json:"unattendedCalls,omitempty"`

	// LastHandledRefreshAt is the last value of the refresh-requested-at annotation that was acted on.
	// Written by the BankConnection reconciler.
	// +optional
	LastHandledRefreshAt string `json:"lastHandledRefreshAt,omitempty"`

	// ProviderRefs are the provider's ids for this connection.
	// Written by the BankConnection reconciler.
	// +optional
	ProviderRefs *ProviderRefs `json:"providerRefs,omitempty"`
	// Debug answers the last debug-id-requested-at annotation.
	// Written by the BankConnection reconciler only.
	// +optional
	Debug *DebugStatus `json:"debug,omitempty"`

	// Notifications is the outbox of this connection's events and their delivery (see NotificationStatus for each field's writer).
	// +optional
	Notifications *NotificationStatus `json:"notifications,omitempty"`
}

// AuthorizationStatus is the consent journey the user can start now.
type AuthorizationStatus struct {
	// Nonce is the journey's link secret (256 bits, in status.connectURL).
	// A state or handoff for another nonce belongs to a used or superseded journey and is refused.
	// +required
	Nonce string `json:"nonce"`
	// ExpiresAt is when the link stops working; a new one is published then.
	// +required
	ExpiresAt metav1.Time `json:"expiresAt"`
	// KeyID names the journey key that was current when the journey started (its PKCE verifier is derived from it), so a key rotation does not break it.
	// +optional
	KeyID string `json:"keyID,omitempty"`
	// Reauthentication is true when the user can re-consent through the provider's shorter re-authentication journey (TrueLayer POST /v1/reauthuri, to the same bank): opening status.connectURL then asks the reconciler for a link for that browser.
	// +optional
	Reauthentication bool `json:"reauthentication,omitempty"`
	// ReauthenticationLink answers the last re-authentication request.
	// +optional
	ReauthenticationLink *ReauthenticationLink `json:"reauthenticationLink,omitempty"`
}

// HandoffStatus hands a journey's result from the gateway to the reconciler.
type HandoffStatus struct {
	// Nonce names the journey the code belongs to.
	// +required
	Nonce string `json:"nonce"`
	// Code is the provider's authorization code, sealed (AES-GCM) with the operator's journey key and bound to this connection and journey: it cannot be read here, and only the reconciler, holding the PKCE verifier, can redeem it.
	// Empty for a re-authentication request.
	// +optional
	Code string `json:"code,omitempty"`
	// ExpiresAt is when the provider's code lapses; a later handoff is not redeemed.
	// +required
	ExpiresAt metav1.Time `json:"expiresAt"`
	// Reauthenticate asks the reconciler for the provider's re-authentication link, for the browser that just opened status.connectURL.
	// It does not use the journey up: the code that follows does.
	// +optional
	Reauthenticate *ReauthenticationRequest `json:"reauthenticate,omitempty"`
}

// CheckRequest is the gateway's request that the reconciler ask the provider about the consent.
type CheckRequest struct {
	// ID names the request, unique per return or webhook event, so each is acted on once.
	// +required
	// +kubebuilder:validation:MaxLength=200
	ID string `json:"id"`
	// Source is what asked: a user's Return from the provider, or a provider Webhook.
	// +required
	Source CheckSource `json:"source"`
	// FailureReason is the provider's reason when a webhook reported that the journey failed.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	FailureReason string `json:"failureReason,omitempty"`
	// RequestedAt is when the gateway asked.
	// +required
	RequestedAt metav1.Time `json:"requestedAt"`
}

// CheckSource is what made the gateway ask for a check.
// +kubebuilder:validation:Enum=Return;Authorized;Failed
type CheckSource string

const (
	// CheckSourceReturn is the user's return from the provider's journey.
	CheckSourceReturn CheckSource = "Return"
	// CheckSourceAuthorized is a verified webhook saying the consent was authorised.
	CheckSourceAuthorized CheckSource = "Authorized"
	// CheckSourceFailed is a verified webhook saying the journey failed.
	CheckSourceFailed CheckSource = "Failed"
)

// ReauthenticationRequest is one browser's request for a re-authentication link.
type ReauthenticationRequest struct {
	// ID names the request (random), so each opening of the link gets a link of its own: the provider's link works once.
	// +required
	ID string `json:"id"`
	// Browser is the hash of the browser's cookie, which the state the provider keeps is sealed with.
	// +required
	Browser string `json:"browser"`
}

// ReauthenticationLink is the provider's re-authentication link for one request.
type ReauthenticationLink struct {
	// RequestID is the request this link answers.
	// +required
	RequestID string `json:"requestID"`
	// URL is the provider's link; empty when the provider could not re-authenticate this connection, and the user is sent through a full journey instead.
	// +optional
	URL string `json:"url,omitempty"`
}

// JourneyResult is how a consent journey ended.
// +kubebuilder:validation:Enum=Connected;Failed;DifferentBank
type JourneyResult string

const (
	// JourneyConnected: the code was redeemed and the tokens stored.
	JourneyConnected JourneyResult = "Connected"
	// JourneyFailed: the code could not be redeemed (expired, refused by the provider).
	JourneyFailed JourneyResult = "Failed"
	// JourneyDifferentBank: a re-consent came back from another bank than the one the connection holds; the new tokens were revoked and the old ones kept.
	JourneyDifferentBank JourneyResult = "DifferentBank"
)

// JourneyOutcome is how the last journey ended.
type JourneyOutcome struct {
	// Nonce names the journey.
	// +required
	Nonce string `json:"nonce"`
	// Result is Connected, Failed or DifferentBank.
	// +required
	Result JourneyResult `json:"result"`
	// Message says why a journey failed.
	// +optional
	Message string `json:"message,omitempty"`
	// CompletedAt is when the reconciler finished the journey.
	// +required
	CompletedAt metav1.Time `json:"completedAt"`
}

// DebugStatus answers the debug-id-requested-at annotation.
type DebugStatus struct {
	// RequestedAt is the annotation's value this answers.
	// +required
	// +kubebuilder:validation:MaxLength=253
	RequestedAt string `json:"requestedAt"`
	// ID is the provider's debug id, to quote to its support.
	// Empty when the provider gave none (Message says why).
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ID string `json:"id,omitempty"`
	// ProviderID is the bank the debug id is for.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	ProviderID string `json:"providerID,omitempty"`
	// IssuedAt is when the provider issued the id.
	// +optional
	IssuedAt *metav1.Time `json:"issuedAt,omitempty"`
	// Message says why there is no id, and what to quote instead.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`
}

// ConsentStatus describes the consent at the provider.
type ConsentStatus struct {
	// CreatedAt is when the user granted the consent, as the provider reports it.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`
	// GrantedAt is when the operator received the tokens of this consent (the OAuth callback).
	// A newer grant in the token Secret makes the operator read the consent's times again.
	// +optional
	GrantedAt *metav1.Time `json:"grantedAt,omitempty"`
	// ExpiresAt is when the consent ends unless it is extended.
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`
	// Status is the consent's state: Pending, Active, Expired or Revoked.
	// +optional
	Status ConsentState `json:"status,omitempty"`
	// ProviderID is the bank the user chose.
	// +optional
	ProviderID string `json:"providerID,omitempty"`
	// ProviderName is the bank's display name.
	// +optional
	ProviderName string `json:"providerName,omitempty"`
	// LastExtendAttemptAt is when the operator last asked the provider to extend the consent (spec.reconsent.autoExtend); it asks at most once a day.
	// +optional
	LastExtendAttemptAt *metav1.Time `json:"lastExtendAttemptAt,omitempty"`
}

// BankSelection is who shows the user the list of banks.
// +kubebuilder:validation:Enum=Provider;Application
type BankSelection string

const (
	// BankSelectionProvider: the provider's own bank-selection screen.
	BankSelectionProvider BankSelection = "Provider"
	// BankSelectionApplication: the application's own screen, fed by the gateway.
	BankSelectionApplication BankSelection = "Application"
)

// Bank is one bank the user can choose on the application's own selection screen.
type Bank struct {
	// ID is the provider's id of the bank, the value of /connect/{secret}?bank=.
	// +required
	ID string `json:"id"`
	// Name is the bank's display name.
	// +required
	Name string `json:"name"`
	// LogoURL is the provider's logo of the bank.
	// +optional
	LogoURL string `json:"logoURL,omitempty"`
	// Country is the bank's ISO 3166 country code.
	// +optional
	Country string `json:"country,omitempty"`
}

// DataRetention is what happens to a deleted connection's stored data.
// +kubebuilder:validation:Enum=Delete;Retain
type DataRetention string

const (
	// DataRetentionDelete erases the connection's rows when it is deleted.
	DataRetentionDelete DataRetention = "Delete"
	// DataRetentionRetain keeps them.
	DataRetentionRetain DataRetention = "Retain"
)

// ConsentState is the lifecycle state of a consent.
// +kubebuilder:validation:Enum=Pending;Active;Expired;Revoked
type ConsentState string

const (
	ConsentPending ConsentState = "Pending"
	ConsentActive  ConsentState = "Active"
	ConsentExpired ConsentState = "Expired"
	ConsentRevoked ConsentState = "Revoked"
)

// TokenStatus is the refresh bookkeeping while refreshes fail (never a token's value).
//
// It holds no per-refresh times: a successful refresh writes only the token Secret
// (the tokens, their expires_at, the refreshed-at annotation), so it costs the
// apiserver no status write. The access token's expiry is the metric
// consent_operator_token_expiry_timestamp_seconds.
type TokenStatus struct {
	// FailedAttempts counts consecutive failed refreshes; it drives the backoff.
	// +optional
	FailedAttempts int32 `json:"failedAttempts,omitempty"`
	// LastFailureAt is when the last refresh failed.
	// +optional
	LastFailureAt *metav1.Time `json:"lastFailureAt,omitempty"`
}

// AccountStatus is an account or card discovered at the bank.
type AccountStatus struct {
	// ID is the provider's account or card id.
	// +required
	ID string `json:"id"`
	// Kind is Account or Card.
	// +kubebuilder:validation:Enum=Account;Card
	Kind string `json:"kind"`
	// DisplayName is the account's name as the bank shows it.
	// +optional
	DisplayName string `json:"displayName,omitempty"`
	// Currency is the account's ISO 4217 currency code.
	// +optional
	Currency string `json:"currency,omitempty"`
}

// UnattendedCallEntry records the unattended data calls for one account and endpoint.
type UnattendedCallEntry struct {
	// AccountID is the account (or card) the calls were made for, by its store id: the provider's id under which it was first stored, so the calls of one bank account count together across re-consents that bring new provider ids.
	// +required
	AccountID string `json:"accountID"`
	// Endpoint is the data endpoint, for example "transactions" or "balance".
	// +required
	Endpoint string `json:"endpoint"`
	// Calls are the times of the calls made in the last 24 hours, oldest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=16
	Calls []metav1.Time `json:"calls,omitempty"`
}

// ProviderRefs are the provider's ids for a connection.
type ProviderRefs struct {
	// DataConnectionID is the TrueLayer Data API v3 connection id.
	// +optional
	DataConnectionID string `json:"dataConnectionID,omitempty"`
	// CodatCompanyID is the Codat company created for this user.
	// +optional
	CodatCompanyID string `json:"codatCompanyID,omitempty"`
	// CodatConnectionID is the Codat data connection to the bank.
	// +optional
	CodatConnectionID string `json:"codatConnectionID,omitempty"`
}

// Markers of BankConnection, apart from its doc comment (which is kubectl explain's text).
// Future times print as text: kubectl renders a future "date" column as <invalid>.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=bc,categories=banking
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.provider`
// +kubebuilder:printcolumn:name="Consent Expires",type=string,JSONPath=`.status.consent.expiresAt`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// BankConnection is one end user's authorised link to one bank through a provider.
// The operator runs the consent journey, keeps the tokens fresh in a Secret, tracks the consent's end and asks for re-consent in time.
type BankConnection struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// +required
	Spec BankConnectionSpec `json:"spec"`
	// +optional
	Status BankConnectionStatus `json:"status,omitzero"`
}

// BankConnectionList is a list of BankConnections.
//
// +kubebuilder:object:root=true
type BankConnectionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []BankConnection `json:"items"`
}
