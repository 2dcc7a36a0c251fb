package testenv

import (
	"net/url"
	"testing"
)

// MustParseURL parses s or fails t: the URLs tests hand the Browser and its cookie jar
// are their own, so a parse error is the test's bug.
func MustParseURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
