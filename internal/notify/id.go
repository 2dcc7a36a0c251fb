package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// EventID is the webhook-id of an event: a hash of the object's UID, the event type
// and what the event is about (the consent, the run), never of when it was observed.
// An event recorded again (a retry, a restart, a reconcile on a lagging cache) has
// the same id, so a receiver that keeps the ids it handled processes it once.
func EventID(uid, eventType string, subject ...string) string {
	h := sha256.New()
	for _, part := range append([]string{uid, eventType}, subject...) {
		h.Write([]byte(part))
		h.Write([]byte{0}) // parts cannot run into each other
	}
	return "msg_" + strings.ToLower(hex.EncodeToString(h.Sum(nil))[:32])
}
