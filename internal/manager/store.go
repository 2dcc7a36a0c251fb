package manager

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/consent-operator/consent-operator/internal/store"
	"github.com/consent-operator/consent-operator/internal/store/open"
)

// openStore opens the database named by --store, --store-dsn-file or
// $CONSENT_OPERATOR_STORE_DSN, defaulting to a SQLite file in --data-dir.
func openStore(ctx context.Context, o Options) (store.Store, error) {
	flag := o.Store
	if flag == "" {
		flag = o.SQLitePath()
	}
	dsn, err := open.ResolveDSN(open.Sources{Flag: flag, File: o.StoreDSNFile, LookupEnv: os.LookupEnv, ReadFile: os.ReadFile})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if kind, path, err := open.Parse(dsn); err == nil && kind == open.SQLite {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("creating the store's directory: %w", err)
		}
	}
	db, err := open.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", open.Redact(dsn), err)
	}
	ctrl.Log.WithName("setup").Info("Store opened", "store", open.Redact(dsn))
	return db, nil
}

// SQLitePath is the embedded store's file when --store is not given.
func (o Options) SQLitePath() string { return filepath.Join(o.DataDir, "consent-operator.db") }

// closeOnStop closes the store when the manager stops.
type closeOnStop struct{ db store.Store }

func (c closeOnStop) Start(ctx context.Context) error {
	<-ctx.Done()
	return c.db.Close()
}

func (c closeOnStop) NeedLeaderElection() bool { return false }
