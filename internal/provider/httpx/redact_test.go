package httpx

import (
	"errors"
	"io"
	"testing"
)

func TestRedact(t *testing.T) {
	secrets := []string{"client-secret-123", "rt-abcdef", "abc"}
	cases := []struct{ in, want string }{
		{"invalid_client: client-secret-123 rejected", "invalid_client: [redacted] rejected"},
		{"rt-abcdef rt-abcdef", "[redacted] [redacted]"},
		{"abc is too short to redact", "abc is too short to redact"},
		{"nothing secret", "nothing secret"},
	}
	for _, tc := range cases {
		if got := Redact(tc.in, secrets); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	err := RedactErr(errors.Join(io.EOF, errors.New("token rt-abcdef")), secrets)
	if err.Error() != "EOF\ntoken [redacted]" || !errors.Is(err, io.EOF) {
		t.Fatalf("RedactErr = %q (chain kept: %v)", err, errors.Is(err, io.EOF))
	}
	if plain := errors.New("no secret"); RedactErr(plain, secrets) != plain {
		t.Fatal("an error without secrets was wrapped")
	}
}
