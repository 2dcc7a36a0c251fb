// Command consent-operator runs the manager: the BankConnection and SyncJob controllers,
// the gateway for OAuth callbacks and webhooks, metrics and health probes.
package main

import (
	"flag"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
)

func main() {
	opts := manager.DefaultOptions()
	opts.BindFlags(flag.CommandLine)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()

	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Unable to load kubeconfig")
		os.Exit(1)
	}
	log.Info("Starting manager", "maxConcurrentReconciles", opts.MaxConcurrentReconciles, "leaderElect", opts.LeaderElect)
	if err := manager.Run(ctrl.SetupSignalHandler(), cfg, opts); err != nil {
		log.Error(err, "Manager stopped with an error")
		os.Exit(1)
	}
}
