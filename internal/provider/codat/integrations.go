package codat

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/consent-operator/consent-operator/internal/provider"
)

// Source is a banking source offered by Codat (an integration whose
// sourceType is Banking). Its Key is what spec.providerID names.
type Source struct {
	Key     string
	Name    string
	Enabled bool
	// DataProvidedBy is the aggregator behind the bank, e.g. "TrueLayer".
	DataProvidedBy string
}

// sourceTypeBanking is the Integration sourceType of banks.
const sourceTypeBanking = "Banking"

// BankingSources lists the banking sources of conn's Codat account
// (GET /integrations, every page), enabled or not, sorted by key.
func (c *Client) BankingSources(ctx context.Context, conn provider.Connection) ([]Source, error) {
	return c.bankingSources(ctx, conn, "banking sources")
}

func (c *Client) bankingSources(ctx context.Context, conn provider.Connection, op string) ([]Source, error) {
	var out []Source
	err := listAll(ctx, c, conn, list{op: op, endpoint: "/integrations", path: "/integrations", kind: opAccount},
		func(i integrationJSON) error {
			if strings.EqualFold(i.SourceType, sourceTypeBanking) {
				out = append(out, Source{Key: i.Key, Name: i.Name, Enabled: i.Enabled, DataProvidedBy: i.DataProvidedBy})
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Source) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// checkSource confirms that key is an enabled banking source. An unknown or
// disabled key is an InvalidRequest naming the keys that would work, so the
// condition tells the user what to put in spec.providerID.
func (c *Client) checkSource(ctx context.Context, conn provider.Connection, op, key string) (Source, error) {
	sources, err := c.bankingSources(ctx, conn, op)
	if err != nil {
		return Source{}, err
	}
	var enabled []string
	for _, s := range sources {
		if s.Key == key {
			if !s.Enabled {
				return Source{}, invalidRequest(op, fmt.Sprintf("providerID %q: the Codat banking source %s is not enabled", key, s.Name))
			}
			return s, nil
		}
		if s.Enabled {
			enabled = append(enabled, s.Key)
		}
	}
	avail := "none is enabled"
	if len(enabled) > 0 {
		avail = "enabled sources: " + strings.Join(enabled, ", ")
	}
	return Source{}, invalidRequest(op, fmt.Sprintf("providerID %q is not a Codat banking source key (%s)", key, avail))
}
