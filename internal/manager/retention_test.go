package manager

import (
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/sqlite"
)

// --retention-sync-runs takes a count or an age; --retention-balances an age.
func TestRetentionFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    store.Retention
		wantErr bool
	}{
		{nil, store.Retention{}, false},
		{[]string{"--retention-sync-runs=50"}, store.Retention{SyncRunsPerJob: 50}, false},
		{[]string{"--retention-sync-runs=720h", "--retention-balances=2160h"}, store.Retention{SyncRunsMaxAge: 720 * time.Hour, BalancesMaxAge: 2160 * time.Hour}, false},
		{[]string{"--retention-sync-runs=0"}, store.Retention{}, false},
		{[]string{"--retention-sync-runs=-3"}, store.Retention{}, true},
		{[]string{"--retention-sync-runs=a month"}, store.Retention{}, true},
	} {
		t.Run(fmt.Sprint(tt.args), func(t *testing.T) {
			o := DefaultOptions()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			o.BindFlags(fs)
			err := fs.Parse(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parse %v: %v", tt.args, err)
			}
			if err == nil && o.Retention != tt.want {
				t.Fatalf("retention %+v, want %+v", o.Retention, tt.want)
			}
		})
	}
}

// The pruner applies the bounds as of its clock's time.
func TestPrunerUsesItsClock(t *testing.T) {
	db, err := sqlite.Open(t.Context(), t.TempDir()+"/store.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o := store.Owner{Namespace: "ns", Connection: "c", UID: "uid", UserRef: "u", Provider: "TrueLayer"}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 10 {
		at := start.Add(time.Duration(d) * 24 * time.Hour)
		if _, err := db.AppendBalances(t.Context(), o, []store.Balance{{AccountID: "acc", ObservedAt: at, Current: "1"}}); err != nil {
			t.Fatal(err)
		}
	}
	now := start.Add(9 * 24 * time.Hour)
	p := &pruner{db: db, retention: store.Retention{BalancesMaxAge: 72 * time.Hour}, now: func() time.Time { return now }, log: testr.New(t)}
	if err := p.prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	left, err := db.ListBalances(t.Context(), o.Key(), "acc")
	if err != nil {
		t.Fatal(err)
	}
	// Days 6, 7, 8 and 9 are within 72 h of day 9.
	if len(left) != 4 || !left[0].ObservedAt.Equal(start.Add(6*24*time.Hour)) {
		t.Fatalf("%d balances left, oldest %v", len(left), left[0].ObservedAt)
	}
}
