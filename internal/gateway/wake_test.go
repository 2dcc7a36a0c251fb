package gateway

import (
	"testing"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

// TestOwnsV3Event: a v3 webhook concerns only a Data API v3 connection with its data
// connection id, signed by a key of that connection's environment (unset: Sandbox).
func TestOwnsV3Event(t *testing.T) {
	v3 := func(env bankingv1alpha1.Environment, id string) *bankingv1alpha1.BankConnection {
		bc := &bankingv1alpha1.BankConnection{}
		bc.Spec.Provider, bc.Spec.DataAPI, bc.Spec.Environment = bankingv1alpha1.ProviderTrueLayer, bankingv1alpha1.DataAPIV3, env
		if id != "" {
			bc.Status.ProviderRefs = &bankingv1alpha1.ProviderRefs{DataConnectionID: id}
		}
		return bc
	}
	v1 := v3("", "dc-1")
	v1.Spec.DataAPI = bankingv1alpha1.DataAPIV1
	sandbox, live := string(bankingv1alpha1.EnvironmentSandbox), string(bankingv1alpha1.EnvironmentLive)
	for _, tc := range []struct {
		name string
		bc   *bankingv1alpha1.BankConnection
		e    V3Event
		want bool
	}{
		{"unset environment is Sandbox", v3("", "dc-1"), V3Event{ConnectionID: "dc-1", Environment: sandbox}, true},
		{"Live signed by Live", v3(bankingv1alpha1.EnvironmentLive, "dc-1"), V3Event{ConnectionID: "dc-1", Environment: live}, true},
		{"Live signed by a Sandbox key", v3(bankingv1alpha1.EnvironmentLive, "dc-1"), V3Event{ConnectionID: "dc-1", Environment: sandbox}, false},
		{"Sandbox signed by a Live key", v3("", "dc-1"), V3Event{ConnectionID: "dc-1", Environment: live}, false},
		{"no environment verified", v3(bankingv1alpha1.EnvironmentSandbox, "dc-1"), V3Event{ConnectionID: "dc-1"}, false},
		{"another data connection", v3("", "dc-1"), V3Event{ConnectionID: "dc-2", Environment: sandbox}, false},
		{"no data connection yet", v3("", ""), V3Event{ConnectionID: "dc-1", Environment: sandbox}, false},
		{"a v1 connection", v1, V3Event{ConnectionID: "dc-1", Environment: sandbox}, false},
	} {
		if got := ownsV3Event(tc.bc, tc.e); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOpenCheckRequest: a check request is open until the reconciler acknowledges its id.
func TestOpenCheckRequest(t *testing.T) {
	req := &bankingv1alpha1.CheckRequest{ID: "return/1"}
	for _, tc := range []struct {
		name    string
		status  bankingv1alpha1.BankConnectionStatus
		wantNil bool
	}{
		{"none", bankingv1alpha1.BankConnectionStatus{}, true},
		{"unacknowledged", bankingv1alpha1.BankConnectionStatus{CheckRequest: req}, false},
		{"acknowledged", bankingv1alpha1.BankConnectionStatus{CheckRequest: req, LastHandledCheckRequest: "return/1"}, true},
		{"an older one acknowledged", bankingv1alpha1.BankConnectionStatus{CheckRequest: req, LastHandledCheckRequest: "return/0"}, false},
	} {
		if got := tc.status.OpenCheckRequest(); (got == nil) != tc.wantNil {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}
