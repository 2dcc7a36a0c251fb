package postgres

import (
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/internal/sqlcore"
)

// dialect is PostgreSQL's SQL text and value binding.
type dialect struct{}

func (dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (dialect) Now() string { return "now()" }

// Encode binds times as timestamptz, amounts as numeric (exact, from their
// decimal text) and JSON as raw jsonb bytes; "not reported" becomes NULL.
func (dialect) Encode(k sqlcore.Kind, v any) any {
	if sqlcore.NotReported(k, v) {
		return nil
	}
	if k == sqlcore.Amount {
		a := v.(store.Amount)
		var n pgtype.Numeric
		if err := n.Scan(string(a)); err != nil {
			// Amounts are validated before encoding; a failure here is a bug.
			panic(fmt.Sprintf("postgres: encode validated amount %q: %v", a, err))
		}
		return n
	}
	return v
}

// SelectExpr reads instants as fixed-width UTC text and numeric/jsonb as
// text, so that the shared reader scans the same strings from both
// databases.
func (dialect) SelectExpr(col string, k sqlcore.Kind) string {
	q := quote(col)
	switch k {
	case sqlcore.Time:
		return fmt.Sprintf(`to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, q)
	case sqlcore.Amount, sqlcore.JSON:
		return q + "::text"
	}
	return q
}

func quote(ident string) string { return `"` + ident + `"` }
