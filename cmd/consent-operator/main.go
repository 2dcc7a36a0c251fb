// Command consent-operator runs one of the operator's two components, from one image:
//
//	consent-operator [flags]          the manager: the BankConnection and SyncJob
//	                                  controllers, the store, metrics and probes
//	consent-operator gateway [flags]  the gateway: connect links, the OAuth callback
//	                                  and provider webhooks, the only public endpoint
//
// They run in separate pods under separate ServiceAccounts: the gateway faces the
// internet and holds no Secret rights beyond reading its journey key.
package main

import (
	"context"
	"flag"
	"os"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "gateway" {
		o := manager.DefaultGatewayOptions()
		run("gateway", args[1:], o.BindFlags, func(ctx context.Context, cfg *rest.Config) error { return manager.RunGateway(ctx, cfg, o) })
		return
	}
	if len(args) > 0 && args[0] == "manager" {
		args = args[1:]
	}
	o := manager.DefaultOptions()
	run("manager", args, o.BindFlags, func(ctx context.Context, cfg *rest.Config) error { return manager.Run(ctx, cfg, o) })
}

// run parses a component's flags, sets up logging and runs it until a signal.
func run(component string, args []string, bind func(*flag.FlagSet), start func(context.Context, *rest.Config) error) {
	fs := flag.NewFlagSet("consent-operator "+component, flag.ExitOnError)
	bind(fs)
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	// controller-runtime registers --kubeconfig on the global flag set; ctrl.GetConfig reads it there.
	if f := flag.CommandLine.Lookup("kubeconfig"); f != nil {
		fs.Var(f.Value, f.Name, f.Usage)
	}
	_ = fs.Parse(args) // ExitOnError: a bad flag exits with usage
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("setup")

	cfg, err := ctrl.GetConfig()
	if err != nil {
		log.Error(err, "Unable to load kubeconfig")
		os.Exit(1)
	}
	log.Info("Starting", "component", component)
	if err := start(ctrl.SetupSignalHandler(), cfg); err != nil {
		log.Error(err, "Stopped with an error", "component", component)
		os.Exit(1)
	}
}
