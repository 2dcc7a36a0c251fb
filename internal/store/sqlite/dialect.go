package sqlite

import (
	"time"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// dialect is SQLite's SQL text and value binding: instants are fixed-width
// UTC text (so text comparison is time comparison), amounts decimal text,
// JSON text; "not reported" becomes NULL.
type dialect struct{}

func (dialect) Placeholder(int) string { return "?" }

func (dialect) Now() string { return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')" }

func (dialect) Encode(k sqlcore.Kind, v any) any {
	switch k {
	case sqlcore.Time:
		t, _ := v.(time.Time)
		if t.IsZero() {
			return nil
		}
		return sqlcore.NormTime(t).Format(sqlcore.TimeLayout)
	case sqlcore.Amount:
		a, _ := v.(store.Amount)
		if a == "" {
			return nil
		}
		return string(a)
	case sqlcore.JSON:
		b, _ := v.([]byte)
		if b == nil {
			return nil
		}
		return string(b)
	}
	return v
}

func (dialect) SelectExpr(col string, _ sqlcore.Kind) string { return `"` + col + `"` }
