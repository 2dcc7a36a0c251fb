package manager

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	bankingv1alpha1 "github.com/consent-operator/consent-operator/api/v1alpha1"
	"github.com/consent-operator/consent-operator/internal/dataapi"
	"github.com/consent-operator/consent-operator/internal/store"
)

// addDataAPI serves the data API on every replica unless --data-api-bind-address is "0".
func addDataAPI(ctx context.Context, mgr ctrl.Manager, cfg *rest.Config, o Options, db store.Store) error {
	if o.DataAPIAddr == "0" && o.DataAPIListener == nil {
		return nil
	}
	if err := mgr.GetFieldIndexer().IndexField(ctx, &bankingv1alpha1.BankConnection{}, dataapi.IndexUserRef, dataapi.UserRefOf); err != nil {
		return fmt.Errorf("indexing BankConnections by userRef: %w", err)
	}
	guard, err := dataapi.NewGuard(cfg, mgr.GetHTTPClient(), dataapi.DefaultGuardCache)
	if err != nil {
		return err
	}
	srv := &dataapi.Server{
		Store:       db,
		Connections: mgr.GetCache(),
		Guard:       guard,
		Addr:        o.DataAPIAddr,
		Listener:    o.DataAPIListener,
		CertDir:     o.DataAPICertDir,
		CertName:    o.DataAPICertName,
		KeyName:     o.DataAPIKeyName,
		Log:         ctrl.Log.WithName("data-api"),
	}
	if err := mgr.Add(srv); err != nil {
		return fmt.Errorf("adding the data API: %w", err)
	}
	return nil
}

// addRetention prunes sync runs and balance history on the leader when a bound is set.
func addRetention(mgr ctrl.Manager, o Options, db store.Store) error {
	if !o.Retention.Enabled() {
		return nil
	}
	if err := o.Retention.Validate(); err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	if err := mgr.Add(&pruner{db: db, retention: o.Retention, now: o.Clock.Now, log: ctrl.Log.WithName("retention")}); err != nil {
		return fmt.Errorf("adding retention: %w", err)
	}
	return nil
}
