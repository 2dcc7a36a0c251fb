package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncResource is a kind of data a SyncJob fetches.
// +kubebuilder:validation:Enum=Info;Accounts;Balance;Transactions;PendingTransactions;StandingOrders;DirectDebits;Cards;Identity
type SyncResource string

const (
	ResourceInfo                SyncResource = "Info"
	ResourceAccounts            SyncResource = "Accounts"
	ResourceBalance             SyncResource = "Balance"
	ResourceTransactions        SyncResource = "Transactions"
	ResourcePendingTransactions SyncResource = "PendingTransactions"
	ResourceStandingOrders      SyncResource = "StandingOrders"
	ResourceDirectDebits        SyncResource = "DirectDebits"
	ResourceCards               SyncResource = "Cards"
	ResourceIdentity            SyncResource = "Identity"
)

// SyncMode says how provider data is requested.
// +kubebuilder:validation:Enum=Async;Sync
type SyncMode string

const (
	// SyncModeAsync asks the provider to prepare results and notify a webhook (polling takes over when no webhook arrives in time).
	SyncModeAsync SyncMode = "Async"
	// SyncModeSync waits for each answer on the request itself.
	SyncModeSync SyncMode = "Sync"
)

// SyncJobSpec is the desired state of a data feed from one BankConnection.
//
// +kubebuilder:validation:XValidation:rule="!has(self.timeZone) || has(self.schedule)",message="timeZone needs a schedule"
type SyncJobSpec struct {
	// ConnectionRef names the BankConnection in the same namespace to read from.
	// +required
	ConnectionRef LocalReference `json:"connectionRef"`

	// Schedule is a cron expression: five fields (minute, hour, day of month, month, day of week), for example "0 6 * * *", or one of @yearly, @monthly, @weekly, @daily, @hourly and @every with a duration, for example "@every 6h".
	// Unset means the job runs once.
	// The apiserver checks the shape; the operator checks the values (a minute of 61, for instance) and reports them in the Stalled condition.
	// +optional
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|@every ([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+|[0-9A-Za-z*?,/-]+([ \t]+[0-9A-Za-z*?,/-]+){4})$')`,message=`schedule must be five cron fields (minute hour day-of-month month day-of-week, for example '0 6 * * *') or one of @yearly, @monthly, @weekly, @daily, @hourly or @every <duration> (for example '@every 6h')`
	Schedule string `json:"schedule,omitempty"`

	// TimeZone is the IANA time zone the schedule is read in, for example "Europe/London".
	// Unset means UTC.
	// The apiserver checks the shape of the name; the operator checks that the zone exists.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule=`self != 'Local' && self.matches(r'^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$')`,message=`timeZone must be an IANA time zone name, for example 'Europe/London' or 'UTC'`
	TimeZone string `json:"timeZone,omitempty"`

	// Suspend stops new runs; a run in flight finishes.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// Resources are the kinds of data to fetch.
	// +required
	// +listType=set
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=9
	Resources []SyncResource `json:"resources"`

	// Transactions configures the transaction window.
	// +optional
	Transactions *TransactionWindow `json:"transactions,omitempty"`

	// Mode is Async (default) or Sync.
	// +optional
	Mode SyncMode `json:"mode,omitempty"`

	// HistoryLimit is how many recent runs are kept in status.
	// Unset means 10.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=50
	HistoryLimit *int32 `json:"historyLimit,omitempty"`
}

// LocalReference names an object in the same namespace.
type LocalReference struct {
	// Name is the object's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
}

// TransactionWindow configures which transactions a run asks for.
//
// +kubebuilder:validation:XValidation:rule="!has(self.lookback) || !has(self.overlap) || duration(self.overlap) < duration(self.lookback)",message="overlap must be shorter than lookback"
type TransactionWindow struct {
	// Lookback is how far back the first run reads.
	// Between 24h and 52560h (6 years); unset means 2160h (90 days).
	// Banks may refuse history older than 90 days outside the first minutes after consent.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('24h') && duration(self) <= duration('52560h')",message="lookback must be between 24h and 52560h (6 years)"
	Lookback *metav1.Duration `json:"lookback,omitempty"`

	// Overlap is how far before the last watermark an incremental run starts, to catch transactions the bank posts late.
	// At most 720h; unset means 72h.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('0s') && duration(self) <= duration('720h')",message="overlap must be between 0s and 720h"
	Overlap *metav1.Duration `json:"overlap,omitempty"`
}

// SyncJobStatus is the observed state of a SyncJob.
type SyncJobStatus struct {
	// ObservedGeneration is the generation of the spec this status describes.
	// Written by the SyncJob controller.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions are Ready, Reconciling and Stalled, as the README's conditions table describes.
	// Written by the SyncJob controller only, derived in one place from what its reconcile found.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// LastScheduleTime is when the last run was started.
	// Written by the SyncJob controller.
	// +optional
	LastScheduleTime *metav1.Time `json:"lastScheduleTime,omitempty"`

	// NextScheduleTime is when the next run is due.
	// Written by the SyncJob controller.
	// +optional
	NextScheduleTime *metav1.Time `json:"nextScheduleTime,omitempty"`

	// LastSuccessfulTime is when the last run completed without error.
	// Written by the SyncJob controller.
	// +optional
	LastSuccessfulTime *metav1.Time `json:"lastSuccessfulTime,omitempty"`

	// ActiveRun is the run in flight, if any.
	// Written by the SyncJob controller.
	// +optional
	ActiveRun *ActiveRun `json:"activeRun,omitempty"`

	// Wake says that the provider reported a task of the active run finished (a verified webhook), so the run collects its results now instead of at its next poll.
	// Written by the gateway; the reconciler acts on each wake once (status.activeRun.handledWake).
	// +optional
	Wake *RunWake `json:"wake,omitempty"`

	// RecentRuns are the latest runs, newest first, at most spec.historyLimit.
	// Written by the SyncJob controller.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=50
	RecentRuns []RunRecord `json:"recentRuns,omitempty"`

	// Watermarks record, per account, up to when transactions have been stored.
	// Written by the SyncJob controller.
	// +optional
	// +listType=map
	// +listMapKey=accountID
	Watermarks []AccountWatermark `json:"watermarks,omitempty"`

	// LastHandledRunRequestAt is the last value of the run-requested-at annotation that was acted on.
	// Written by the SyncJob controller.
	// +optional
	LastHandledRunRequestAt string `json:"lastHandledRunRequestAt,omitempty"`

	// Notifications is the outbox of this job's events (sync.completed, sync.failed) and their delivery to the connection's notification URL (see NotificationStatus for each field's writer).
	// +optional
	Notifications *NotificationStatus `json:"notifications,omitempty"`
}

// RunWake is the gateway's note that a provider task of a run finished.
type RunWake struct {
	// ID names the wake (unique per webhook), so each is acted on once.
	// +required
	// +kubebuilder:validation:MaxLength=200
	ID string `json:"id"`
	// RunID is the run whose task finished.
	// +required
	RunID string `json:"runID"`
	// TaskID is the provider's id of the finished task.
	// +required
	// +kubebuilder:validation:MaxLength=128
	TaskID string `json:"taskID"`
	// At is when the webhook arrived.
	// +required
	At metav1.Time `json:"at"`
}

// ActiveRun is a run in flight.
type ActiveRun struct {
	// ID is the run's id, also the key of its row in the store's sync_runs table.
	// +required
	ID string `json:"id"`
	// StartedAt is when the run started.
	// +required
	StartedAt metav1.Time `json:"startedAt"`
	// Attended is true when the user was present (the run sends X-PSU-IP and is not counted against the unattended-call budget).
	// +optional
	Attended bool `json:"attended,omitempty"`
	// PSUIP is the psu-ip annotation's value an attended run was started with and sends with every call; the annotation itself is removed when the run ends, so it marks one run only.
	// Written by the SyncJob controller.
	// +optional
	// +kubebuilder:validation:MaxLength=45
	PSUIP string `json:"psuIP,omitempty"`
	// Phase is the stage of the run: ConnectionData (accounts, cards, info, identity) then AccountData (balances, transactions, pending, standing orders, direct debits per account).
	// +optional
	// +kubebuilder:validation:Enum=ConnectionData;AccountData
	Phase RunPhase `json:"phase,omitempty"`
	// PollAttempts counts polls of the provider's tasks without an answer; it spaces the polls out when no webhook arrives.
	// +optional
	PollAttempts int32 `json:"pollAttempts,omitempty"`
	// HandledWake is the id of the last status.wake this run acted on.
	// +optional
	HandledWake string `json:"handledWake,omitempty"`
	// NextPollAt is when the provider's tasks are polled next if no webhook says they are ready before then.
	// +optional
	NextPollAt *metav1.Time `json:"nextPollAt,omitempty"`
	// Counts are the records stored so far, per resource.
	// +optional
	// +listType=map
	// +listMapKey=resource
	Counts []ResourceCount `json:"counts,omitempty"`
	// Errors are the failures of single fetches so far; the run ends PartiallySucceeded.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=20
	Errors []string `json:"errors,omitempty"`
	// Tasks are the provider's asynchronous tasks the run waits for.
	// +optional
	// +listType=atomic
	Tasks []ProviderTask `json:"tasks,omitempty"`
}

// RunPhase is the stage of a run.
type RunPhase string

const (
	RunPhaseConnectionData RunPhase = "ConnectionData"
	RunPhaseAccountData    RunPhase = "AccountData"
)

// ProviderTask is an asynchronous request the provider is preparing.
type ProviderTask struct {
	// Resource is the kind of data the task fetches.
	// +required
	Resource SyncResource `json:"resource"`
	// AccountID is the account or card the task is for, if any.
	// +optional
	AccountID string `json:"accountID,omitempty"`
	// TaskID is the provider's task id.
	// +required
	TaskID string `json:"taskID"`
	// ResultsURI is where the results are collected.
	// +optional
	ResultsURI string `json:"resultsURI,omitempty"`
	// From is the start of the transaction window the task asked for.
	// +optional
	From *metav1.Time `json:"from,omitempty"`
	// To is the end of the transaction window the task asked for.
	// +optional
	To *metav1.Time `json:"to,omitempty"`
	// Card is true when AccountID is a card.
	// +optional
	Card bool `json:"card,omitempty"`
	// Done is true once the results were stored.
	// +optional
	Done bool `json:"done,omitempty"`
}

// RunResult is the outcome of a run.
// +kubebuilder:validation:Enum=Succeeded;PartiallySucceeded;Failed;Deferred
type RunResult string

const (
	RunSucceeded          RunResult = "Succeeded"
	RunPartiallySucceeded RunResult = "PartiallySucceeded"
	RunFailed             RunResult = "Failed"
	// RunDeferred is a scheduled run that was not sent because it would have exceeded the unattended-call budget.
	RunDeferred RunResult = "Deferred"
)

// RunRecord summarises one run.
type RunRecord struct {
	// ID is the run's id.
	// +required
	ID string `json:"id"`
	// StartedAt is when the run started.
	// +required
	StartedAt metav1.Time `json:"startedAt"`
	// FinishedAt is when the run ended.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
	// Result is how the run ended.
	// +required
	Result RunResult `json:"result"`
	// Attended is true when the user was present.
	// +optional
	Attended bool `json:"attended,omitempty"`
	// Counts are the records stored, per resource.
	// +optional
	// +listType=map
	// +listMapKey=resource
	Counts []ResourceCount `json:"counts,omitempty"`
	// Error says what went wrong, if anything.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Error string `json:"error,omitempty"`
}

// ResourceCount is how many records of one resource a run stored.
type ResourceCount struct {
	// Resource is the kind of data counted.
	// +required
	Resource SyncResource `json:"resource"`
	// Fetched is how many records the provider returned.
	// +optional
	Fetched int64 `json:"fetched,omitempty"`
	// Stored is how many of them were new to the store.
	// +optional
	Stored int64 `json:"stored,omitempty"`
}

// AccountWatermark records up to when an account's transactions have been stored.
type AccountWatermark struct {
	// AccountID is the store's id of the account or card: the provider's id under which it was first stored, kept when a re-consent brings new provider ids for the same account.
	// +required
	AccountID string `json:"accountID"`
	// TransactionsThrough is the end of the last window stored completely.
	// +required
	TransactionsThrough metav1.Time `json:"transactionsThrough"`
}

// SyncJob fetches a BankConnection's data, once or on a schedule, into the store, within the regulatory limit of four unattended calls per account per day.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sj,categories=banking
// +kubebuilder:printcolumn:name="Connection",type=string,JSONPath=`.spec.connectionRef.name`
// +kubebuilder:printcolumn:name="Schedule",type=string,JSONPath=`.spec.schedule`
// +kubebuilder:printcolumn:name="Last Run",type=date,JSONPath=`.status.lastScheduleTime`
// +kubebuilder:printcolumn:name="Next Run",type=string,JSONPath=`.status.nextScheduleTime`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`,priority=1
type SyncJob struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitzero"`

	// +required
	Spec SyncJobSpec `json:"spec"`
	// +optional
	Status SyncJobStatus `json:"status,omitzero"`
}

// SyncJobList is a list of SyncJobs.
//
// +kubebuilder:object:root=true
type SyncJobList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitzero"`
	Items           []SyncJob `json:"items"`
}
