package codat

import (
	"sync"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// boundedCache is a small FIFO-evicting cache. It exists so that paging
// through a large transaction list does not regenerate the data for every page,
// while a scale test with thousands of connections keeps memory bounded.
type boundedCache[K comparable, V any] struct {
	mu    sync.Mutex
	cap   int
	items map[K]V
	order []K // insertion order, oldest first
}

func newBoundedCache[K comparable, V any](capacity int) *boundedCache[K, V] {
	return &boundedCache[K, V]{cap: capacity, items: make(map[K]V, capacity)}
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.items[k]
	return v, ok
}

func (c *boundedCache[K, V]) put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[k]; ok {
		c.items[k] = v
		return
	}
	if len(c.order) >= c.cap {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	c.items[k] = v
	c.order = append(c.order, k)
}

// Cache sizes: a dataset is a few hundred kilobytes, a snapshot of a medium
// dataset's transactions a few megabytes.
const (
	datasetCacheSize  = 256
	snapshotCacheSize = 16
)

type datasetCache = *boundedCache[string, *bankdata.Dataset]

type snapshotCache = *boundedCache[snapshotKey, *snapshot]

// snapshotKey names the data one successful pull produced.
type snapshotKey struct {
	pullID   string
	dataType string
}

// dataset returns the bankdata dataset of a connection's bank user.
func (e *Emulator) dataset(user string) (*bankdata.Dataset, error) {
	if ds, ok := e.datasets.get(user); ok {
		return ds, nil
	}
	opts := e.dataOpts
	opts.User = user
	ds, err := bankdata.Generate(opts)
	if err != nil {
		return nil, err
	}
	e.datasets.put(user, ds)
	return ds, nil
}
