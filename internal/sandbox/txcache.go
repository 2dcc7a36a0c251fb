package sandbox

import (
	"fmt"
	"sync"

	"github.com/consent-operator/consent-operator/internal/sandbox/bankdata"
)

// txCache keeps encoded transaction responses for identical windows.
// TrueLayer serves identical requests within an hour from a cache too; here
// the content is a pure function of (dataset, account, endpoint, window), so
// a hit is always exact. Bounded: it is emptied when full.
type txCache struct {
	mu sync.RWMutex
	m  map[string][]byte
}

const txCacheMax = 512

func txCacheKey(ds *bankdata.Dataset, accountID string, ep endpoint, w window) string {
	return fmt.Sprintf("%p|%s|%d|%d|%d", ds, accountID, ep, w.from.UnixNano(), w.to.UnixNano())
}

func (c *txCache) get(k string) ([]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *txCache) put(k string, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= txCacheMax {
		c.m = map[string][]byte{}
	}
	c.m[k] = b
}
