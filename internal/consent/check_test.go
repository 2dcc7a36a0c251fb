package consent

import (
	"testing"
	"time"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
)

func TestKeptByProvider(t *testing.T) {
	cases := []struct {
		p    bankingv1alpha1.Provider
		api  bankingv1alpha1.DataAPI
		want bool
	}{
		{bankingv1alpha1.ProviderTrueLayer, "", false},
		{bankingv1alpha1.ProviderTrueLayer, bankingv1alpha1.DataAPIV1, false},
		{bankingv1alpha1.ProviderTrueLayer, bankingv1alpha1.DataAPISignupPlus, false},
		{bankingv1alpha1.ProviderTrueLayer, bankingv1alpha1.DataAPIV3, true},
		{bankingv1alpha1.ProviderCodat, "", true},
	}
	for _, tc := range cases {
		if got := KeptByProvider(tc.p, tc.api); got != tc.want {
			t.Errorf("KeptByProvider(%s, %q) = %v, want %v", tc.p, tc.api, got, tc.want)
		}
	}
}

func TestWaitingCheckInterval(t *testing.T) {
	cases := []struct {
		waited time.Duration
		want   time.Duration
	}{
		{0, 30 * time.Second},
		{119 * time.Minute, 30 * time.Second},
		{2 * time.Hour, 5 * time.Minute},
		{23*time.Hour + 59*time.Minute, 5 * time.Minute},
		{24 * time.Hour, time.Hour},
		{7*24*time.Hour - time.Second, time.Hour},
		{7 * 24 * time.Hour, 6 * time.Hour},
		{400 * 24 * time.Hour, 6 * time.Hour},
	}
	for _, tc := range cases {
		if got := WaitingCheckInterval(tc.waited); got != tc.want {
			t.Errorf("WaitingCheckInterval(%s) = %s, want %s", tc.waited, got, tc.want)
		}
	}
}

func TestNextCheck(t *testing.T) {
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		s    CheckState
		want time.Time
	}{
		{"pending, never checked: at once", CheckState{State: KeptPending, Since: since}, since},
		{"pending, checked at the start", CheckState{State: KeptPending, Since: since, Last: since}, since.Add(30 * time.Second)},
		{"pending an hour", CheckState{State: KeptPending, Since: since, Last: since.Add(time.Hour)}, since.Add(time.Hour + 30*time.Second)},
		{"pending three hours", CheckState{State: KeptPending, Since: since, Last: since.Add(3 * time.Hour)}, since.Add(3*time.Hour + 5*time.Minute)},
		{"pending two days", CheckState{State: KeptPending, Since: since, Last: since.Add(48 * time.Hour)}, since.Add(49 * time.Hour)},
		{"pending two weeks", CheckState{State: KeptPending, Since: since, Last: since.Add(14 * 24 * time.Hour)}, since.Add(14*24*time.Hour + 6*time.Hour)},
		{"stalled follows the same schedule", CheckState{State: KeptStalled, Since: since, Last: since.Add(10 * time.Minute)}, since.Add(10*time.Minute + 30*time.Second)},
		{"last check before a new link: fast again", CheckState{State: KeptStalled, Since: since, Last: since.Add(-time.Hour)}, since.Add(-time.Hour + 30*time.Second)},
		{"active: hourly", CheckState{State: KeptActive, Since: since, Last: since.Add(5 * time.Hour)}, since.Add(6 * time.Hour)},
		{"active, never checked: at once", CheckState{State: KeptActive, Since: since}, since},
		{"active v3: daily", CheckState{State: KeptActive, Since: since, Last: since.Add(5 * time.Hour), ActiveInterval: V3ActiveCheckInterval}, since.Add(29 * time.Hour)},
		{"pending v3: the waiting schedule", CheckState{State: KeptPending, Since: since, Last: since, ActiveInterval: V3ActiveCheckInterval}, since.Add(30 * time.Second)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NextCheck(tc.s); !got.Equal(tc.want) {
				t.Fatalf("NextCheck = %s, want %s", got, tc.want)
			}
		})
	}
}
