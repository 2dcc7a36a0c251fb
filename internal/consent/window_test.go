package consent

import (
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	expires := t0.Add(90 * 24 * time.Hour)
	week := 7 * 24 * time.Hour
	cases := []struct {
		name      string
		now       time.Time
		expiresAt time.Time
		notify    time.Duration
		want      WindowState
		wantNext  time.Time
	}{
		{"unknown end", t0, time.Time{}, week, WindowUnknown, time.Time{}},
		{"day 1 is valid until the warning", t0, expires, week, WindowValid, expires.Add(-week)},
		{"day 83 enters the warning window", t0.Add(83 * 24 * time.Hour), expires, week, WindowExpiring, expires},
		{"default window is 7 days", t0.Add(82 * 24 * time.Hour), expires, 0, WindowValid, expires.Add(-week)},
		{"day 89", t0.Add(89 * 24 * time.Hour), expires, week, WindowExpiring, expires},
		{"exactly at the end it has expired", expires, expires, week, WindowExpired, time.Time{}},
		{"day 91", t0.Add(91 * 24 * time.Hour), expires, week, WindowExpired, time.Time{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, next := Window(tc.now, tc.expiresAt, tc.notify)
			if got != tc.want || !next.Equal(tc.wantNext) {
				t.Fatalf("Window = %s, %s; want %s, %s", got, next, tc.want, tc.wantNext)
			}
		})
	}
}

func TestEarliestAndRequeueAfter(t *testing.T) {
	if got := Earliest(time.Time{}, t0.Add(time.Hour), t0.Add(time.Minute), time.Time{}); !got.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Earliest = %s", got)
	}
	if !Earliest().IsZero() || !Earliest(time.Time{}).IsZero() {
		t.Fatal("Earliest of nothing must be zero")
	}
	cases := []struct {
		deadline time.Time
		want     time.Duration
	}{
		{time.Time{}, 0},
		{t0.Add(-time.Hour), time.Second},
		{t0.Add(500 * time.Millisecond), time.Second},
		{t0.Add(time.Hour), time.Hour},
	}
	for _, tc := range cases {
		if got := RequeueAfter(t0, tc.deadline); got != tc.want {
			t.Errorf("RequeueAfter(%s) = %s, want %s", tc.deadline, got, tc.want)
		}
	}
}
