package gateway

// StateKey is the operator's master key (the state-key Secret). The journey's keys
// are derived from it (internal/journey); the gateway also signs SyncJob webhook
// tokens with it.
type StateKey []byte

// MaxStateLength bounds a state, ticket or webhook token read from a request; every
// value the operator issues is well under 1 KiB.
const MaxStateLength = 2048
