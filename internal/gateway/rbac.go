package gateway

// The gateway's rights (config/rbac/gateway, the chart's gateway ClusterRole). It
// faces the internet, so it holds no Secret rights beyond reading its journey key by
// name (a Role in the operator's namespace, config/rbac/gateway/key_role.yaml), cannot
// change a spec, and writes only the status fields it owns: a BankConnection's
// status.handoff and status.checkRequest, a SyncJob's status.wake.
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections;syncjobs,verbs=get;list;watch
// +kubebuilder:rbac:groups=banking.consent-operator.dev,resources=bankconnections/status;syncjobs/status,verbs=patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// Its metrics endpoint authenticates and authorizes scrapers, as the manager's does.
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
