package storetest

import (
	"context"
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
