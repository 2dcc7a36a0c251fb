package v1alpha1

// Condition types. They follow the kstatus / Flux conventions: Ready is the summary and
// is present from the first reconcile (Unknown while work is pending); Reconciling and
// Stalled are "abnormal-true" and are present only while True.
const (
	// ConditionReady is True when the object does its job: a connection has a valid
	// token, a SyncJob's last run stored its data.
	ConditionReady = "Ready"
	// ConditionReconciling is True only while work is in flight (a refresh, a run).
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True only when a human must act (re-consent, credentials,
	// invalid spec). A provider outage is never Stalled.
	ConditionStalled = "Stalled"
	// ConditionConsentExpiring is True inside spec.reconsent.notifyBefore before the
	// consent ends; status.reconsentURL then holds the link for the user.
	ConditionConsentExpiring = "ConsentExpiring"
)

// Reasons shared by both kinds.
const (
	// ReasonProgressing: first reconcile, or work started but not finished.
	ReasonProgressing = "Progressing"
	// ReasonSuspended: spec.suspend is true.
	ReasonSuspended = "Suspended"
	// ReasonProviderUnavailable: the provider answered 5xx, timed out or dropped the
	// connection; the operator backs off and retries.
	ReasonProviderUnavailable = "ProviderUnavailable"
	// ReasonRateLimited: the provider throttled the operator; it backs off.
	ReasonRateLimited = "RateLimited"
)

// BankConnection reasons.
const (
	// ReasonAwaitingAuthorization: the user has not completed the consent journey yet;
	// status.connectURL is the link to send them.
	ReasonAwaitingAuthorization = "AwaitingAuthorization"
	// ReasonAuthorized: the consent is active and the token Secret holds a usable token.
	ReasonAuthorized = "Authorized"
	// ReasonRefreshInterrupted: the manager stopped between the provider's answer to a
	// refresh and storing the new tokens; the stored refresh token may be invalid.
	ReasonRefreshInterrupted = "RefreshInterrupted"
	// ReasonConsentExpired: the 90-day consent ended; the user must consent again.
	ReasonConsentExpired = "ConsentExpired"
	// ReasonConsentRevoked: the consent was revoked at the provider or bank.
	ReasonConsentRevoked = "ConsentRevoked"
	// ReasonInvalidClientCredentials: the provider rejected client_id/client_secret (or
	// the Codat API key), or the credentials Secret is missing or incomplete.
	ReasonInvalidClientCredentials = "InvalidClientCredentials"
	// ReasonReauthorizationRequired: the provider needs the user to authenticate again.
	ReasonReauthorizationRequired = "ReauthorizationRequired"
	// ReasonConsentExpiringSoon: inside the warning window (ConsentExpiring=True).
	ReasonConsentExpiringSoon = "ConsentExpiringSoon"
	// ReasonConsentValid: outside the warning window (ConsentExpiring=False).
	ReasonConsentValid = "ConsentValid"
	// ReasonConsentExtended: the consent was extended at the provider.
	ReasonConsentExtended = "ConsentExtended"
	// ReasonTokenSecretUnusable: the token Secret cannot be read or written as
	// configured (encryption key missing or wrong, a foreign Secret with that name).
	ReasonTokenSecretUnusable = "TokenSecretUnusable"
	// ReasonRevokeFailed: the consent could not be revoked at the provider on delete.
	ReasonRevokeFailed = "RevokeFailed"
	// ReasonUserDeclined: the user cancelled the consent journey at the provider.
	ReasonUserDeclined = "UserDeclined"
	// ReasonAuthorizationFailed (event): a journey's code could not be redeemed.
	ReasonAuthorizationFailed = "AuthorizationFailed"
	// ReasonDataErased (event): the deleted connection's stored rows were erased.
	ReasonDataErased = "DataErased"
	// ReasonDifferentBank (event): a re-consent came back from another bank; its
	// tokens were revoked and the connection keeps the consent it had.
	ReasonDifferentBank = "DifferentBank"
)

// SyncJob reasons.
const (
	// ReasonWaitingForConnection: the BankConnection is missing or not Ready; the job
	// waits and does not fail.
	ReasonWaitingForConnection = "WaitingForConnection"
	// ReasonScheduled: idle, the next run is scheduled.
	ReasonScheduled = "Scheduled"
	// ReasonRunning: a run is in flight.
	ReasonRunning = "Running"
	// ReasonSucceeded: the last run stored its data.
	ReasonSucceeded = "Succeeded"
	// ReasonRunFailed: the last run failed; the next one is scheduled.
	ReasonRunFailed = "RunFailed"
	// ReasonBudgetExhausted: the next run would exceed four unattended calls per account
	// and endpoint in 24 hours; it is deferred, never sent.
	ReasonBudgetExhausted = "BudgetExhausted"
	// ReasonInvalidSchedule: spec.schedule or spec.timeZone cannot be parsed.
	ReasonInvalidSchedule = "InvalidSchedule"
	// ReasonCompleted: a job without a schedule ran once.
	ReasonCompleted = "Completed"
	// ReasonPlanExceedsBudget: a run of the job needs more than four unattended calls
	// to one account and endpoint (e.g. a lookback of more than four 365-day windows),
	// so it could never fit the budget; the job is Stalled until the spec changes.
	ReasonPlanExceedsBudget = "PlanExceedsBudget"
	// ReasonHistoryUnavailable (event): the bank refused history older than 90 days
	// outside the SCA window; the run read the last 90 days and moved the watermark.
	ReasonHistoryUnavailable = "HistoryUnavailable"
)

// ReasonInvalidRequest (both kinds): the provider refused a request as invalid (a
// wrong providerID, an unknown account, a plan limit); retrying the same request
// cannot help, so the object is Stalled until its spec or the provider account is
// fixed. The message quotes the provider's error and trace id.
const ReasonInvalidRequest = "InvalidRequest"
