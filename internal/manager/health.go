package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
)

// Readiness (/readyz) is more than a live process: a replica whose informers have not
// synced would reconcile from a partial view, and one without its store cannot record
// what it fetches. Each check answers within a probe's default one-second timeout.

// cacheSyncWait bounds how long a readiness check waits for the informers: synced
// caches answer at once, so waiting longer only delays the "not ready" answer.
const cacheSyncWait = 200 * time.Millisecond

// storePingTimeout bounds a readiness check's query of the store.
const storePingTimeout = 500 * time.Millisecond

// CacheSynced is ready once every informer the manager started has synced. A replica
// that is not the leader runs no controllers: it is ready once its cache has started
// (the gateway's first read starts, and waits for, the informers it needs).
func CacheSynced(c cache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), cacheSyncWait)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("the informer caches have not synced yet")
		}
		return nil
	}
}

// Pinger is what StoreReachable asks; store.Store is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// StoreReachable is ready while the store answers a query.
func StoreReachable(p Pinger) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), storePingTimeout)
		defer cancel()
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("the store does not answer: %w", err)
		}
		return nil
	}
}
