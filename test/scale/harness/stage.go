package harness

import (
	"context"
	"errors"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/consent-operator/consent-operator/internal/sandbox"
)

// Stage is what the scale and fault suites both run the operator on: a control plane,
// the sandbox with the harness's client registered for the gateway's callback, the
// gateway's address, the operator's namespace and prepared tenant namespaces, and the
// manager binary (built while the control plane starts, unless one was given).
type Stage struct {
	ControlPlane *ControlPlane
	Sandbox      *Sandbox
	// GatewayAddr is the loopback address the gateway will listen on; GatewayURL its
	// public URL.
	GatewayAddr, GatewayURL string

	binary   string
	buildErr error
	built    chan struct{} // closed once binary (or buildErr) is set
}

// StageOptions say what a Stage differs in between suites.
type StageOptions struct {
	// Dir holds the control plane's files and the manager binary built.
	Dir string
	// Binary is a prebuilt manager binary; empty builds ./cmd/consent-operator.
	Binary string
	// Sandbox is the sandbox's behaviour; its Clients are set by the stage.
	Sandbox sandbox.Options
	// OperatorNamespace is created; Namespaces are created and prepared for tenants
	// (PrepareNamespace).
	OperatorNamespace string
	Namespaces        []string
}

// StartStage starts a Stage for t, or fails t. It stops when t's cleanups run: after
// the test function's defers, so after the caller's context is cancelled (the
// apiserver waits for open watches when it stops), and after any cleanup registered
// later, such as the gateway's (RunUntilCleanup).
func StartStage(ctx context.Context, t testing.TB, o StageOptions) *Stage {
	t.Helper()
	s, err := startStage(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Log(err)
		}
	})
	return s
}

func startStage(ctx context.Context, o StageOptions) (*Stage, error) {
	s := &Stage{binary: o.Binary, built: make(chan struct{})}
	go func() {
		defer close(s.built)
		if s.binary == "" {
			s.binary, s.buildErr = BuildManager(ctx, o.Dir)
		}
	}()
	var err error
	if s.ControlPlane, err = StartControlPlane(o.Dir); err != nil {
		return nil, err
	}
	if err := s.start(ctx, o); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

func (s *Stage) start(ctx context.Context, o StageOptions) error {
	var err error
	if s.GatewayAddr, err = FreePort(); err != nil {
		return err
	}
	s.GatewayURL = "http://" + s.GatewayAddr
	sbOpts := o.Sandbox
	sbOpts.Clients = []sandbox.Client{{ID: ClientID, Secret: ClientSecret, RedirectURIs: []string{CallbackURL(s.GatewayURL)}}}
	if s.Sandbox, err = StartSandbox(sbOpts); err != nil {
		return err
	}
	c := s.ControlPlane.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: o.OperatorNamespace}}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", o.OperatorNamespace, err)
	}
	for _, ns := range o.Namespaces {
		if err := PrepareNamespace(ctx, c, ns); err != nil {
			return err
		}
	}
	return nil
}

// Binary waits for the manager binary and returns its path.
func (s *Stage) Binary() (string, error) {
	<-s.built
	return s.binary, s.buildErr
}

// stop closes the sandbox and stops the control plane.
func (s *Stage) stop() error {
	if s.Sandbox != nil {
		s.Sandbox.Close()
	}
	return s.ControlPlane.Stop()
}
