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
	if sqlcore.NotReported(k, v) {
		return nil
	}
	switch k {
	case sqlcore.Time:
		return sqlcore.NormTime(v.(time.Time)).Format(sqlcore.TimeLayout)
	case sqlcore.Amount:
		return string(v.(store.Amount))
	case sqlcore.JSON:
		return string(v.([]byte))
	}
	return v
}

func (dialect) SelectExpr(col string, _ sqlcore.Kind) string { return `"` + col + `"` }
