package controllers_test

import (
	"encoding/json"
	"net/http"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

// TestApplicationBankSelection: an application with its own bank-selection screen
// reads the connection's banks from the gateway (the provider's list, published with
// the journey), the user picks one there, and the provider's dialog opens at that bank.
func TestApplicationBankSelection(t *testing.T) {
	ns := newNamespace(t, "banks")
	bc := newConnection(ns, "rosa")
	bc.Spec.BankSelection = bankingv1alpha1.BankSelectionApplication
	bc.Spec.Providers = []string{"uk-cs-mock", "uk-ob-all"}
	create(t, bc)
	waitFor(t, bc, hasCondition(bankingv1alpha1.ConditionReady, metav1.ConditionUnknown, bankingv1alpha1.ReasonAwaitingAuthorization))

	resp, err := http.Get(bc.Status.ConnectURL + "/banks")
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Banks []bankingv1alpha1.Bank `json:"banks"`
	}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("bank list: HTTP %d, %v", resp.StatusCode, err)
	}
	ids := map[string]bool{}
	for _, b := range list.Banks {
		ids[b.ID] = b.Name != "" && b.LogoURL != ""
	}
	if !ids["mock"] || !ids["ob-mock"] {
		t.Fatalf("bank list %+v lacks the sandbox's mock banks (with names and logos)", list.Banks)
	}

	user := testenv.NewBrowser()
	link := toProvider(t, user, bc.Status.ConnectURL+"?bank=ob-mock")
	if link.Query().Get("provider_id") != "ob-mock" {
		t.Fatalf("the provider link %s does not preselect the chosen bank", link.Redacted())
	}
	atBank(t, user, link)
	waitFor(t, bc, isReady)
	if bc.Status.Consent == nil || bc.Status.Consent.ProviderID != "ob-mock" {
		t.Fatalf("consent %+v, want it at the chosen bank ob-mock", bc.Status.Consent)
	}
	if bc.Status.Banks != nil {
		t.Fatal("the bank list stayed in status after the journey")
	}
}
