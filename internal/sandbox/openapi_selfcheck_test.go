package sandbox_test

import "testing"

// The validators must reject wrong bodies, or the contract tests prove nothing.
func TestContractValidatorsReject(t *testing.T) {
	v3 := loadOAS31(t, "data-api-v3.json")
	for _, tc := range []struct{ component, body string }{
		{"GetConnectedAccounts", `{"items":[{"id":"a","type":"account"}],"pagination":{}}`},
		{"TransactionsRequestPending", `{"id":"x","status":"done"}`},
		{"ProblemDetailsInvalidState", `{"type":"x","title":"Invalid State","status":400,"trace_id":"t","detail":"d"}`},
	} {
		if err := v3.validate(tc.component, []byte(tc.body)); err == nil {
			t.Errorf("%s accepted an invalid body %s", tc.component, tc.body)
		}
	}
	if err := v3.validate("GetUserInfo", []byte(`{"name":"Jane"}`)); err != nil {
		t.Errorf("valid body rejected: %v", err)
	}
	v1 := loadOAS30(t, "data-api-v1.json", "")
	sch := v1.doc.Components.Schemas["AccountTransaction"].Value
	var bad any
	mustf(t, jsonUnmarshal([]byte(`{"transaction_id":"x","timestamp":"t","currency":"GBP","amount":"12","description":"d","transaction_type":"DEBIT","transaction_category":"PURCHASE","transaction_classification":[]}`), &bad) == nil, "json")
	if sch.VisitJSON(bad) == nil {
		t.Error("kin-openapi accepted a string amount")
	}
}
