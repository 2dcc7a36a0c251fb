package sqlcore

import (
	"slices"
	"testing"

	"github.com/consent-operator/consent-operator/internal/store"
)

func TestMatchAccounts(t *testing.T) {
	existing := []store.AccountIdentity{
		{AccountID: "a", ProviderAccountID: "a", Key: "gb:1:1"},
		{AccountID: "b", ProviderAccountID: "b2", Key: "gb:2:2"}, // re-keyed once already
		{AccountID: "c", ProviderAccountID: "c", Key: ""},
	}
	cases := []struct {
		name       string
		ids, keys  []string
		wantStored []string
		wantKeys   []string
	}{
		{"new ids, same keys", []string{"x", "y"}, []string{"gb:1:1", "gb:2:2"}, []string{"a", "b"}, []string{"gb:1:1", "gb:2:2"}},
		{"the latest provider id without a key", []string{"b2"}, []string{""}, []string{"b"}, []string{""}},
		{"an id already stored, first key", []string{"c"}, []string{"iban:X"}, []string{"c"}, []string{"iban:X"}},
		{"unknown account", []string{"z"}, []string{"iban:Z"}, []string{"z"}, []string{"iban:Z"}},
		{"one key for two accounts matches neither", []string{"x", "y"}, []string{"gb:1:1", "gb:1:1"}, []string{"x", "y"}, []string{"", ""}},
		{"the same account twice in a batch", []string{"x", "x"}, []string{"gb:1:1", "gb:1:1"}, []string{"a", "a"}, []string{"gb:1:1", "gb:1:1"}},
		{"a key match beside a new account", []string{"x", "y"}, []string{"gb:1:1", ""}, []string{"a", "y"}, []string{"gb:1:1", ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stored, keys := matchAccounts(existing, tc.ids, tc.keys)
			if !slices.Equal(stored, tc.wantStored) || !slices.Equal(keys, tc.wantKeys) {
				t.Fatalf("matchAccounts(%v, %v) = %v, %v; want %v, %v", tc.ids, tc.keys, stored, keys, tc.wantStored, tc.wantKeys)
			}
		})
	}
}
