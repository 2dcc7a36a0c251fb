package sandbox

import (
	"hash/maphash"
	"sync"
)

// shardedMap is a string-keyed map split into shards with their own locks,
// so the token and connection lookups of concurrent clients rarely contend.
type shardedMap[V any] struct {
	seed   maphash.Seed
	shards [64]struct {
		mu sync.RWMutex
		m  map[string]V
	}
}

func newShardedMap[V any]() *shardedMap[V] {
	s := &shardedMap[V]{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = map[string]V{}
	}
	return s
}

func (s *shardedMap[V]) shard(k string) *struct {
	mu sync.RWMutex
	m  map[string]V
} {
	return &s.shards[maphash.String(s.seed, k)%uint64(len(s.shards))]
}

func (s *shardedMap[V]) get(k string) (V, bool) {
	sh := s.shard(k)
	sh.mu.RLock()
	v, ok := sh.m[k]
	sh.mu.RUnlock()
	return v, ok
}

func (s *shardedMap[V]) set(k string, v V) {
	sh := s.shard(k)
	sh.mu.Lock()
	sh.m[k] = v
	sh.mu.Unlock()
}

func (s *shardedMap[V]) del(k string) {
	sh := s.shard(k)
	sh.mu.Lock()
	delete(sh.m, k)
	sh.mu.Unlock()
}

// each calls f for every entry; f must not call back into the map.
func (s *shardedMap[V]) each(f func(k string, v V)) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		for k, v := range sh.m {
			f(k, v)
		}
		sh.mu.RUnlock()
	}
}
