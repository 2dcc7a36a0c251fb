package codat

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Wire types of the Platform and Banking documents (../shared/codat-openapi/),
// limited to the fields this client reads.

// Data connection statuses (Connection.status).
const (
	statusPendingAuth  = "PendingAuth"
	statusLinked       = "Linked"
	statusUnlinked     = "Unlinked"
	statusDeauthorized = "Deauthorized"
)

type integrationJSON struct {
	Key        string `json:"key"`
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	SourceID   string `json:"sourceId"`
	SourceType string `json:"sourceType"`
	// DataProvidedBy is e.g. "TrueLayer" for banks reached through it.
	DataProvidedBy string `json:"dataProvidedBy"`
}

type companyJSON struct {
	ID              string           `json:"id"`
	Name            string           `json:"name"`
	Redirect        string           `json:"redirect"`
	Created         string           `json:"created"`
	DataConnections []connectionJSON `json:"dataConnections"`
}

type connectionJSON struct {
	ID                   string                    `json:"id"`
	IntegrationKey       string                    `json:"integrationKey"`
	SourceID             string                    `json:"sourceId"`
	PlatformName         string                    `json:"platformName"`
	LinkURL              string                    `json:"linkUrl"`
	Status               string                    `json:"status"`
	Created              string                    `json:"created"`
	DataConnectionErrors []dataConnectionErrorJSON `json:"dataConnectionErrors"`
}

type dataConnectionErrorJSON struct {
	StatusCode   string `json:"statusCode"`
	ErrorMessage string `json:"errorMessage"`
	ErroredOnUtc string `json:"erroredOnUtc"`
	// Status is "Active" until the connection is authorised again, then "Resolved".
	Status string `json:"status"`
}

// pullJSON is a pull operation (formerly "dataset").
type pullJSON struct {
	ID           string `json:"id"`
	CompanyID    string `json:"companyId"`
	ConnectionID string `json:"connectionId"`
	DataType     string `json:"dataType"`
	Status       string `json:"status"`
	ErrorMessage string `json:"errorMessage"`
	Requested    string `json:"requested"`
	Completed    string `json:"completed"`
}

// pageJSON is Codat's paged envelope.
type pageJSON[T any] struct {
	Results      []T `json:"results"`
	PageNumber   int `json:"pageNumber"`
	PageSize     int `json:"pageSize"`
	TotalResults int `json:"totalResults"`
	Links        *struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
}

// Banking API types. Amounts are json.Number so that the decimal text Codat
// sent reaches the store unchanged.

type accountJSON struct {
	ID          string             `json:"id"`
	Name        string             `json:"name"`
	Holder      string             `json:"holder"`
	Type        string             `json:"type"`
	Balance     balanceAmountsJSON `json:"balance"`
	Identifiers accountIdentifiers `json:"identifiers"`
	Currency    string             `json:"currency"`
	Institution accountInstitution `json:"institution"`
	Modified    string             `json:"modifiedDate"`
}

type balanceAmountsJSON struct {
	Available json.Number `json:"available"`
	Current   json.Number `json:"current"`
	Limit     json.Number `json:"limit"`
}

type accountIdentifiers struct {
	Type                string `json:"type"`
	Subtype             string `json:"subtype"`
	Number              string `json:"number"`
	BankCode            string `json:"bankCode"`
	IBAN                string `json:"iban"`
	BIC                 string `json:"bic"`
	MaskedAccountNumber string `json:"maskedAccountNumber"`
}

type accountInstitution struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type accountBalanceJSON struct {
	AccountID string             `json:"accountId"`
	Balance   balanceAmountsJSON `json:"balance"`
	Date      string             `json:"date"`
	Modified  string             `json:"modifiedDate"`
}

type transactionJSON struct {
	ID                     string      `json:"id"`
	AccountID              string      `json:"accountId"`
	Description            string      `json:"description"`
	Amount                 json.Number `json:"amount"`
	Currency               string      `json:"currency"`
	PostedDate             string      `json:"postedDate"`
	AuthorizedDate         string      `json:"authorizedDate"`
	Code                   string      `json:"code"`
	MerchantName           string      `json:"merchantName"`
	TransactionCategoryRef *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"transactionCategoryRef"`
	Modified       string `json:"modifiedDate"`
	SourceModified string `json:"sourceModifiedDate"`
}

// dateLayouts are the DateTime forms Codat documents: UTC ("…Z"), UTC
// offsets, unqualified local time (read as UTC: Codat says it is local to the
// business, which this client cannot know) and plain dates.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

// parseTime reads a Codat DateTime; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable date-time %q", s)
}

// queryTime writes a time for Codat's query language, in whole seconds:
// rounded down for a lower bound and up for an upper bound, so that the
// server's filter never drops what the exact client-side filter keeps.
func queryTime(t time.Time, roundUp bool) string {
	s := t.UTC().Truncate(time.Second)
	if roundUp && s.Before(t) {
		s = s.Add(time.Second)
	}
	return s.Format("2006-01-02T15:04:05Z")
}
