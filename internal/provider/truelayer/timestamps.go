package truelayer

import (
	"fmt"
	"strings"
	"time"
)

// timestampLayouts are the forms TrueLayer's timestamps take: with a Z or a
// numeric offset, with or without fractions, or with no zone at all (read as
// UTC) (providers-api.md §3.1).
var timestampLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02",
}

// parseTimestamp parses a TrueLayer timestamp; "" gives the zero time.
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised timestamp %q", s)
}
