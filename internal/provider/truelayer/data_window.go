package truelayer

import (
	"time"

	"github.com/consent-operator/consent-operator/internal/provider"
)

const dateLayout = "2006-01-02"

// dateWindow is a Fetch's [From, To) window as TrueLayer's from/to
// parameters: whole UTC dates, both inclusive (providers-api.md §3.6, §4.2).
// The dates cover the window; records outside it are dropped by inWindow.
type dateWindow struct {
	// from and to are YYYY-MM-DD, "" when the Fetch leaves that end open.
	from, to string
	// future is set when the window starts after today: nothing can be in
	// it yet, so no call is made.
	future bool
}

// toDateWindow converts f's window. now is the client's clock: a to date
// after today is refused by TrueLayer (invalid_date_range), and nothing
// after now exists, so to is capped at today.
func toDateWindow(f provider.Fetch, now time.Time) dateWindow {
	today := utcDate(now)
	var w dateWindow
	var from, to time.Time
	if !f.From.IsZero() {
		from = utcDate(f.From)
		if from.After(today) {
			return dateWindow{future: true}
		}
		w.from = from.Format(dateLayout)
	}
	if !f.To.IsZero() {
		// To is exclusive: the last day asked for is the one holding the
		// instant just before To.
		to = utcDate(f.To.Add(-time.Nanosecond))
		if to.After(today) {
			to = today
		}
		w.to = to.Format(dateLayout)
	}
	return w
}

// inWindow reports whether ts lies in f's [From, To).
func inWindow(ts time.Time, f provider.Fetch) bool {
	return (f.From.IsZero() || !ts.Before(f.From)) && (f.To.IsZero() || ts.Before(f.To))
}

func utcDate(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
