package schedule

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 0, 30, 0, 0, time.UTC)

func TestDecide(t *testing.T) {
	every6h, err := Parse("0 */6 * * *", "")
	if err != nil {
		t.Fatal(err)
	}
	london, err := Parse("0 9 * * *", "Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		s         *Schedule
		last, now time.Time
		wantDue   bool
		wantSlot  time.Time
		wantNext  time.Time
	}{
		{"before the first slot", every6h, t0, t0.Add(time.Hour), false, time.Time{}, t0.Add(5*time.Hour + 30*time.Minute)},
		{"at the slot", every6h, t0, t0.Add(5*time.Hour + 30*time.Minute), true, t0.Add(5*time.Hour + 30*time.Minute), t0.Add(11*time.Hour + 30*time.Minute)},
		{"missed slots run once for the latest", every6h, t0, t0.Add(20 * time.Hour), true, t0.Add(17*time.Hour + 30*time.Minute), t0.Add(23*time.Hour + 30*time.Minute)},
		{"a run for the slot is not repeated", every6h, t0.Add(5*time.Hour + 30*time.Minute), t0.Add(6 * time.Hour), false, time.Time{}, t0.Add(11*time.Hour + 30*time.Minute)},
		// 09:00 in London is 09:00 UTC in winter and 08:00 UTC in summer.
		{"time zone in winter", london, t0, t0.Add(9 * time.Hour), true, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)},
		{"time zone in summer", london, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), true, time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC), time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.s.Decide(tc.last, tc.now)
			if d.Due != tc.wantDue || !d.Slot.Equal(tc.wantSlot) || !d.Next.Equal(tc.wantNext) {
				t.Fatalf("Decide = %+v, want due=%v slot=%s next=%s", d, tc.wantDue, tc.wantSlot, tc.wantNext)
			}
		})
	}
}

// TestParseReportsEveryProblem: a bad schedule and a bad time zone are reported
// together, schedule first, in a message without counters or times.
func TestParseReportsEveryProblem(t *testing.T) {
	_, err := Parse("61 * * * *", "Mars/Olympus")
	want := `spec.schedule "61 * * * *": end of range (61) above maximum (59): 61; spec.timeZone "Mars/Olympus" is not a known IANA time zone`
	if err == nil || err.Error() != want {
		t.Fatalf("Parse = %v, want %s", err, want)
	}
	if _, err := Parse("0 6 * * *", "Local"); err == nil || !strings.Contains(err.Error(), "not an IANA time zone name") {
		t.Fatalf("Parse with Local = %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ expr, tz string }{{"every six hours", ""}, {"0 */6 * * *", "Mars/Olympus"}, {"61 * * * *", ""}} {
		if _, err := Parse(c.expr, c.tz); err == nil {
			t.Errorf("Parse(%q, %q) accepted", c.expr, c.tz)
		}
	}
	for _, expr := range []string{"@hourly", "@every 6h", "*/15 * * * *"} {
		if _, err := Parse(expr, ""); err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
		}
	}
}
