package notify_test

import (
	"regexp"
	"testing"

	"github.com/consent-operator/consent-operator/internal/notify"
)

func TestEventIDIsStableAndDistinct(t *testing.T) {
	base := notify.EventID("uid-1", "connection.ready", "granted:2026-01-05T09:00:00Z")
	if again := notify.EventID("uid-1", "connection.ready", "granted:2026-01-05T09:00:00Z"); again != base {
		t.Fatalf("the same event got two ids: %s, %s", base, again)
	}
	if !regexp.MustCompile(`^msg_[0-9a-f]{32}$`).MatchString(base) {
		t.Fatalf("id %q is not msg_ and 32 hex digits", base)
	}
	for _, tc := range []struct {
		name string
		id   string
	}{
		{"another object", notify.EventID("uid-2", "connection.ready", "granted:2026-01-05T09:00:00Z")},
		{"another type", notify.EventID("uid-1", "consent.revoked", "granted:2026-01-05T09:00:00Z")},
		{"another consent", notify.EventID("uid-1", "connection.ready", "granted:2026-04-05T09:00:00Z")},
		{"parts that run into each other", notify.EventID("uid-1connection.ready", "", "granted:2026-01-05T09:00:00Z")},
	} {
		if tc.id == base {
			t.Errorf("%s: same id as the base event", tc.name)
		}
	}
}
