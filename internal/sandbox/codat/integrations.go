package codat

import (
	"net/http"
	"regexp"
)

// Source is one banking source the emulator offers in GET /integrations. In
// Codat, banks reached through TrueLayer are separate sources (each with its own
// 4-letter key and sourceId) that share TrueLayer's integrationId.
type Source struct {
	Key           string // 4 lowercase letters; the platformKey clients send
	Name          string // the bank's display name (platformName of connections)
	SourceID      string // UUID identifying the bank
	IntegrationID string // UUID identifying the underlying integration
	DataProvider  string // dataProvidedBy, e.g. "TrueLayer"
	Enabled       bool   // disabled sources are listed but cannot be connected
}

// trueLayerIntegrationID is the integrationId shared by the default sources.
const trueLayerIntegrationID = "b9a6b8d2-6f3c-4f53-9c36-3b0f6c1d7e11"

// DefaultSources returns the banking sources the emulator offers unless
// Options.Sources says otherwise: the sandbox's mock bank (the same bank the
// TrueLayer emulator calls "mock"), a second enabled bank so that clients must
// pick by key, and a disabled one so that filtering on enabled matters.
func DefaultSources() []Source {
	return []Source{
		{Key: "mock", Name: "Mock Bank", SourceID: "5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e01",
			IntegrationID: trueLayerIntegrationID, DataProvider: "TrueLayer", Enabled: true},
		{Key: "dmbk", Name: "Demo Bank", SourceID: "5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e02",
			IntegrationID: trueLayerIntegrationID, DataProvider: "TrueLayer", Enabled: true},
		{Key: "oldb", Name: "Old Bank (retired)", SourceID: "5d7c4a3e-0c1b-4f2a-9e8d-1a2b3c4d5e03",
			IntegrationID: trueLayerIntegrationID, DataProvider: "TrueLayer", Enabled: false},
	}
}

var platformKeyPattern = regexp.MustCompile(`^[a-z]{4}$`)

// bankingDataTypes are the data types a banking source supports, in the order
// "refresh all" queues them.
var bankingDataTypes = []string{
	dataTypeAccounts, dataTypeBalances, dataTypeTransactions, dataTypeCategories,
}

const (
	dataTypeAccounts     = "banking-accounts"
	dataTypeBalances     = "banking-accountBalances"
	dataTypeTransactions = "banking-transactions"
	dataTypeCategories   = "banking-transactionCategories"
)

type integrationJSON struct {
	Key                string            `json:"key"`
	LogoURL            string            `json:"logoUrl"`
	Name               string            `json:"name"`
	Enabled            bool              `json:"enabled"`
	SourceID           string            `json:"sourceId"`
	SourceType         string            `json:"sourceType"`
	IntegrationID      string            `json:"integrationId"`
	IsOfflineConnector bool              `json:"isOfflineConnector"`
	IsBeta             bool              `json:"isBeta"`
	DataProvidedBy     string            `json:"dataProvidedBy"`
	DatatypeFeatures   []datatypeFeature `json:"datatypeFeatures"`
}

// datatypeFeature uses the key "datatype": the schema requires that spelling
// (its properties list says dataType, but required and every example say
// datatype), so the emulator follows what is required.
type datatypeFeature struct {
	Datatype          string             `json:"datatype"`
	SupportedFeatures []supportedFeature `json:"supportedFeatures"`
}

type supportedFeature struct {
	FeatureType  string `json:"featureType"`
	FeatureState string `json:"featureState"`
}

func (e *Emulator) integrationView(r *http.Request, s Source) integrationJSON {
	features := make([]datatypeFeature, 0, len(bankingDataTypes))
	for _, dt := range bankingDataTypes {
		features = append(features, datatypeFeature{Datatype: dt,
			SupportedFeatures: []supportedFeature{{FeatureType: "Get", FeatureState: "Release"}}})
	}
	return integrationJSON{
		Key:              s.Key,
		LogoURL:          e.baseURL(r) + linkPrefix + "/logos/" + s.Key + ".svg",
		Name:             s.Name,
		Enabled:          s.Enabled,
		SourceID:         s.SourceID,
		SourceType:       "Banking",
		IntegrationID:    s.IntegrationID,
		DataProvidedBy:   s.DataProvider,
		DatatypeFeatures: features,
	}
}

// integrationRecord is how queries and orderBy see an integration.
func integrationRecord(v integrationJSON) record {
	return record{
		"key": v.Key, "name": v.Name, "enabled": v.Enabled, "sourceId": v.SourceID,
		"sourceType": v.SourceType, "integrationId": v.IntegrationID,
		"isOfflineConnector": v.IsOfflineConnector, "isBeta": v.IsBeta,
		"dataProvidedBy": v.DataProvidedBy, "logoUrl": v.LogoURL,
	}
}

// handleListIntegrations serves GET /integrations.
func (e *Emulator) handleListIntegrations(w http.ResponseWriter, r *http.Request) error {
	views := make([]integrationJSON, 0, len(e.sources))
	for _, s := range e.sources {
		views = append(views, e.integrationView(r, s))
	}
	page, herr := paginate(r, servicePublicAPI, "Integration", views, integrationRecord)
	if herr != nil {
		return herr
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// handleGetIntegration serves GET /integrations/{platformKey}.
func (e *Emulator) handleGetIntegration(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("platformKey")
	s, ok := e.sourceByKey(key)
	if !ok {
		return errNotFound("No integration was found with key " + key)
	}
	writeJSON(w, http.StatusOK, e.integrationView(r, s))
	return nil
}

func (e *Emulator) sourceByKey(key string) (Source, bool) {
	for _, s := range e.sources {
		if s.Key == key {
			return s, true
		}
	}
	return Source{}, false
}
