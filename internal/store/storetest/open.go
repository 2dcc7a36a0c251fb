package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

// Opened is how a backend's tests take a store they opened: it fails t if
// the open failed, and closes the store when t ends (a failed Close fails t).
func Opened(t testing.TB, s store.Store, err error) store.Store {
	t.Helper()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// TextStore is a store whose database Query reads with a connection of its
// own, as another program would: the TextQuerier a backend hands to Run.
type TextStore struct {
	store.Store
	Query func(ctx context.Context, query string) ([]string, error)
}

// QueryText implements TextQuerier.
func (s TextStore) QueryText(ctx context.Context, query string) ([]string, error) {
	return s.Query(ctx, query)
}

// OpenConcurrently opens and closes n stores with open at the same time, as
// managers starting together do, and fails t if any of them failed.
func OpenConcurrently(t testing.TB, n int, open func(context.Context) (store.Store, error)) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() {
			s, err := open(context.Background())
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
}
