package v1alpha1

// Annotations users set on the objects.
const (
	// AnnotationRefreshRequestedAt on a BankConnection forces a token refresh whenever
	// its value changes; status.lastHandledRefreshAt echoes the value once done.
	AnnotationRefreshRequestedAt = "banking.consent-operator.dev/refresh-requested-at"
	// AnnotationDebugIDRequestedAt on a BankConnection asks the provider for a debug id
	// (TrueLayer POST /api/debug) whenever its value changes, for the provider's
	// support; status.debug answers it (echoing the value) and an event names the id.
	AnnotationDebugIDRequestedAt = "banking.consent-operator.dev/debug-id-requested-at"
	// AnnotationRunRequestedAt on a SyncJob starts a run whenever its value changes;
	// status.lastHandledRunRequestAt echoes the value once the run has started.
	AnnotationRunRequestedAt = "banking.consent-operator.dev/run-requested-at"
	// AnnotationPSUIP, set together with AnnotationRunRequestedAt, marks the run as
	// attended by the user at that IP address: it is sent with X-PSU-IP and not counted
	// against the unattended-call budget. It marks that one run: the SyncJob controller
	// removes it when the run ends (unless it was changed meanwhile), so a later
	// run-requested-at without a new psu-ip is unattended.
	AnnotationPSUIP = "banking.consent-operator.dev/psu-ip"
	// AnnotationKeepTokenSecret set to "true" keeps the token Secret when the
	// BankConnection is deleted (its ownerRef is removed instead).
	AnnotationKeepTokenSecret = "banking.consent-operator.dev/keep-token-secret"
	// AnnotationCodatDeleteCompany set to "true" deletes the whole Codat company on
	// delete instead of only its data connection.
	AnnotationCodatDeleteCompany = "banking.consent-operator.dev/codat-delete-company"
)

// Names the operator puts on objects it manages.
const (
	// LabelManagedBy marks Secrets the operator manages; the manager's cache holds only
	// Secrets with this label.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "consent-operator"
	// LabelConnection names the BankConnection a managed Secret belongs to.
	LabelConnection = "banking.consent-operator.dev/connection"
	// SecretTypeToken is the type of token Secrets.
	SecretTypeToken = "banking.consent-operator.dev/token"
	// FinalizerRevoke makes deletion of a BankConnection wait until the consent is
	// revoked at the provider.
	FinalizerRevoke = "banking.consent-operator.dev/revoke"
)
