package controllers_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/consent-operator/consent-operator/internal/manager"
	"github.com/consent-operator/consent-operator/internal/testenv"
)

var env *testenv.Env

// TestMain runs the controllers' tests against a real kube-apiserver with the whole
// manager running in-process, as in production.
func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(os.Stderr), zap.Level(zapLevel())))
	testenv.Main(m, &env, func(e *testenv.Env) (stop func(), err error) {
		opts := manager.DefaultOptions()
		opts.MetricsAddr, opts.ProbeAddr = "0", "0"
		ctx, cancel := context.WithCancel(context.Background())
		mgr, err := manager.New(e.Config, opts)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("creating manager: %w", err)
		}
		done := make(chan error, 1)
		go func() { done <- mgr.Start(ctx) }()
		return func() { cancel(); <-done }, nil
	})
}
