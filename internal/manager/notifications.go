package manager

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/consent-operator/consent-operator/controllers"
	"github.com/consent-operator/consent-operator/internal/notify"
)

// queuePerDestination bounds the deliveries waiting for one destination; past it the
// events wait in their outboxes and are handed over on a later look.
const queuePerDestination = 256

// setupNotifications registers the notifier and returns the outbox the reconcilers
// record events in; nil when notifications are disabled.
func setupNotifications(mgr ctrl.Manager, o Options) (*controllers.Outbox, error) {
	n := o.Notifications
	if n.Workers <= 0 {
		return nil, nil
	}
	allow, err := notify.ParseCIDRs(n.AllowCIDRs)
	if err != nil {
		return nil, fmt.Errorf("--notifications-allow-cidrs: %w", err)
	}
	deny, err := notify.ParseCIDRs(n.DenyCIDRs)
	if err != nil {
		return nil, fmt.Errorf("--notifications-deny-cidrs: %w", err)
	}
	policy := notify.Policy{AllowHTTP: n.AllowHTTP, AllowCIDRs: allow, DenyCIDRs: deny}
	r := &controllers.NotificationReconciler{
		Client:      mgr.GetClient(),
		APIReader:   mgr.GetAPIReader(),
		Clock:       o.Clock,
		Dispatcher:  notify.NewDispatcher(n.Workers, queuePerDestination),
		Sender:      notify.NewSender(policy, n.Timeout),
		Metrics:     notificationMetrics,
		Timeout:     n.Timeout,
		MaxAttempts: max(n.MaxAttempts, 1),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, err
	}
	return &controllers.Outbox{Reader: mgr.GetClient(), Metrics: notificationMetrics}, nil
}
