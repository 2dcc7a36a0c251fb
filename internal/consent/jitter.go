package consent

import (
	"hash/fnv"
	"time"
)

// Jitter returns a stable offset in [0, max) for key. It is derived from the key
// rather than drawn at random, so a connection's deadline does not move from one
// reconcile to the next (status stays unchanged, nothing is written) while thousands of
// connections due at the same time still spread over the window after a restart.
func Jitter(key string, max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(max))
}
