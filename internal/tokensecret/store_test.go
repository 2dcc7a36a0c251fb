package tokensecret

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/consent-operator/consent-operator/internal/provider"
)

func TestMetadataFacts(t *testing.T) {
	exp := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		annotations map[string]string
		want        facts
		ok          bool
	}{
		{"both", map[string]string{AnnotationExpiresAt: "2026-03-01T13:00:00Z", AnnotationHasRefreshToken: "true"}, facts{exp, true}, true},
		{"no refresh token", map[string]string{AnnotationExpiresAt: "2026-03-01T13:00:00Z", AnnotationHasRefreshToken: "false"}, facts{exp, false}, true},
		{"no expiry given", map[string]string{AnnotationExpiresAt: "0001-01-01T00:00:00Z", AnnotationHasRefreshToken: "true"}, facts{time.Time{}, true}, true},
		{"written by an older version", map[string]string{AnnotationRefreshedAt: "2026-03-01T12:00:00Z"}, facts{}, false},
		{"none", nil, facts{}, false},
		{"expiry only", map[string]string{AnnotationExpiresAt: "2026-03-01T13:00:00Z"}, facts{}, false},
		{"refresh token only", map[string]string{AnnotationHasRefreshToken: "true"}, facts{}, false},
		{"malformed expiry", map[string]string{AnnotationExpiresAt: "tomorrow", AnnotationHasRefreshToken: "true"}, facts{}, false},
		{"malformed flag", map[string]string{AnnotationExpiresAt: "2026-03-01T13:00:00Z", AnnotationHasRefreshToken: "yes please"}, facts{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := metadataFacts(tc.annotations)
			if ok != tc.ok || !got.expiresAt.Equal(tc.want.expiresAt) || got.hasRefreshToken != tc.want.hasRefreshToken {
				t.Fatalf("metadataFacts = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestEncodeWritesTheFacts: the one write that stores tokens records the facts the
// reconciler decides on, and they decode to what the data says.
func TestEncodeWritesTheFacts(t *testing.T) {
	for _, tok := range []provider.Tokens{testTokens(), {AccessToken: "a", ExpiresAt: testTokens().ExpiresAt}, {AccessToken: "a", RefreshToken: "r"}} {
		s := New(testConnection())
		if err := Encode(s, tok, nil); err != nil {
			t.Fatal(err)
		}
		f, ok := metadataFacts(s.Annotations)
		if !ok || !f.expiresAt.Equal(tok.ExpiresAt) || f.hasRefreshToken != (tok.RefreshToken != "") {
			t.Fatalf("tokens %+v: annotations %v decode to %+v, %v", tok, s.Annotations, f, ok)
		}
		got, _, _ := Decode(s, nil)
		if !got.ExpiresAt.Equal(f.expiresAt) {
			t.Fatalf("data says %s, annotation %s", got.ExpiresAt, f.expiresAt)
		}
	}
}

// countingReader counts the reads that reach the apiserver.
type countingReader struct {
	client.Reader
	gets int
}

func (r *countingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r.gets++
	return r.Reader.Get(ctx, key, obj, opts...)
}

// tokenSecret is a token Secret of testConnection holding testTokens.
func tokenSecret(t *testing.T, edit func(*corev1.Secret)) *corev1.Secret {
	t.Helper()
	s := New(testConnection())
	if err := Encode(s, testTokens(), nil); err != nil {
		t.Fatal(err)
	}
	MarkRefreshInFlight(s, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	setGrantedAt(s, time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	s.Annotations[AnnotationJourney] = "journey-1"
	if edit != nil {
		edit(s)
	}
	return s
}

// TestLoadFromMetadata: a snapshot from the cache holds the facts but not the token
// values; a Secret without the annotations (an older version's) is read whole from the
// apiserver, once; LoadTokens reads the values once per snapshot.
func TestLoadFromMetadata(t *testing.T) {
	legacy := func(s *corev1.Secret) {
		delete(s.Annotations, AnnotationExpiresAt)
		delete(s.Annotations, AnnotationHasRefreshToken)
	}
	cases := []struct {
		name   string
		secret *corev1.Secret
		// reads are the direct reads Load makes; values is whether its snapshot holds
		// the token values.
		reads  int
		values bool
		want   Snapshot
		err    bool
	}{
		{name: "annotated", secret: tokenSecret(t, nil), reads: 0, values: false,
			want: Snapshot{HasTokens: true, HasRefreshToken: true, ExpiresAt: testTokens().ExpiresAt, InFlight: true,
				GrantedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), RefreshedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Journey: "journey-1"}},
		{name: "written by an older version: one direct read", secret: tokenSecret(t, legacy), reads: 1, values: true,
			want: Snapshot{HasTokens: true, HasRefreshToken: true, ExpiresAt: testTokens().ExpiresAt, InFlight: true,
				GrantedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), RefreshedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Journey: "journey-1"}},
		{name: "older version without a refresh token", secret: tokenSecret(t, func(s *corev1.Secret) { legacy(s); delete(s.Data, KeyRefreshToken) }),
			reads: 1, values: true,
			want: Snapshot{HasTokens: true, HasRefreshToken: false, ExpiresAt: testTokens().ExpiresAt, InFlight: true,
				GrantedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), RefreshedAt: time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC), Journey: "journey-1"}},
		{name: "no tokens", secret: New(testConnection()), reads: 1, values: true, want: Snapshot{}},
		{name: "no Secret", reads: 0, values: true, want: Snapshot{}},
		{name: "another's Secret", secret: tokenSecret(t, func(s *corev1.Secret) { s.OwnerReferences = nil }), err: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, direct := testStore(t, tc.secret)
			snap, err := st.Load(context.Background(), testConnection(), nil, false)
			var unusable *UnusableError
			if tc.err {
				if !errors.As(err, &unusable) {
					t.Fatalf("Load: %v, want an UnusableError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if direct.gets != tc.reads {
				t.Fatalf("Load made %d direct reads, want %d", direct.gets, tc.reads)
			}
			if facts := withoutMeta(snap); facts != tc.want {
				t.Fatalf("snapshot %+v, want %+v", facts, tc.want)
			}
			if (tc.secret != nil) != (snap.Meta != nil) {
				t.Fatalf("Meta = %v with a Secret %v", snap.Meta, tc.secret != nil)
			}
			if snap.HoldsValues() != tc.values {
				t.Fatalf("HoldsValues = %v, want %v", snap.HoldsValues(), tc.values)
			}
			tok, err := snap.Tokens()
			if !tc.values {
				if !errors.Is(err, ErrNoTokenValues) || tok != (provider.Tokens{}) {
					t.Fatalf("metadata-only Tokens() = %+v, %v; want ErrNoTokenValues", tok, err)
				}
			}
			want := provider.Tokens{}
			if tc.want.HasTokens {
				want = testTokens()
				if !tc.want.HasRefreshToken {
					want.RefreshToken = ""
				}
			}
			for i := 0; i < 2; i++ {
				tok, err = st.LoadTokens(context.Background(), testConnection(), nil, &snap)
				if err != nil || tok != want {
					t.Fatalf("LoadTokens = %+v, %v; want %+v", tok, err, want)
				}
			}
			if wantReads := tc.reads + boolInt(!tc.values); direct.gets != wantReads {
				t.Fatalf("%d direct reads after LoadTokens twice, want %d", direct.gets, wantReads)
			}
			if facts := withoutMeta(snap); facts != tc.want {
				t.Fatalf("whole snapshot %+v differs from the metadata one %+v", facts, tc.want)
			}
		})
	}
}

// TestMarkInFlightNeedsTheWholeSecret: an update of the metadata alone would erase the
// tokens, so a snapshot from the cache is refused.
func TestMarkInFlightNeedsTheWholeSecret(t *testing.T) {
	st, _ := testStore(t, tokenSecret(t, func(s *corev1.Secret) { ClearRefreshInFlight(s) }))
	ctx, bc := context.Background(), testConnection()
	meta, err := st.Load(ctx, bc, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkInFlight(ctx, meta, time.Now()); !errors.Is(err, ErrNoTokenValues) {
		t.Fatalf("MarkInFlight on metadata: %v", err)
	}
	if err := st.MarkInFlight(ctx, meta.WithTokens(testTokens(), time.Now()), time.Now()); !errors.Is(err, ErrNoTokenValues) {
		t.Fatalf("MarkInFlight on a snapshot of tokens just stored: %v", err)
	}
	whole, err := st.Load(ctx, bc, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkInFlight(ctx, whole, time.Now()); err != nil {
		t.Fatal(err)
	}
	after, err := st.Load(ctx, bc, nil, true)
	if err != nil || !after.InFlight {
		t.Fatalf("marker not stored: %+v, %v", after, err)
	}
	if tok, _ := after.Tokens(); tok != testTokens() {
		t.Fatalf("tokens changed by the marker: %+v", tok)
	}
}

func testStore(t *testing.T, secret *corev1.Secret) (*Store, *countingReader) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	b := fake.NewClientBuilder().WithScheme(scheme)
	if secret != nil {
		b = b.WithObjects(secret)
	}
	c := b.Build()
	direct := &countingReader{Reader: c}
	return &Store{Client: c, Reader: direct}, direct
}

// withoutMeta is s's facts alone, comparable.
func withoutMeta(s Snapshot) Snapshot {
	return Snapshot{HasTokens: s.HasTokens, HasRefreshToken: s.HasRefreshToken, ExpiresAt: s.ExpiresAt, InFlight: s.InFlight,
		GrantedAt: s.GrantedAt, RefreshedAt: s.RefreshedAt, Journey: s.Journey}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSaveGrantReads: a grant for a connection whose Secret the caller did not see is
// created without a read; one whose Secret exists after all (a cache that lagged) is
// read and updated after the create fails; either way the snapshot returned is what
// was stored, whole, so the caller reads nothing more.
func TestSaveGrantReads(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	grant := provider.Tokens{AccessToken: "at-new", RefreshToken: "rt-new", TokenType: "Bearer", ExpiresAt: at.Add(time.Hour)}
	cases := []struct {
		name     string
		existing *corev1.Secret
		prev     Snapshot
		gets     int
	}{
		{"a first consent: created without reading", nil, Snapshot{}, 0},
		{"a Secret the caller did not see: the create fails, it is read and updated", tokenSecret(t, nil), Snapshot{}, 1},
		{"a re-consent: read, then updated", tokenSecret(t, nil), Snapshot{Meta: &tokenSecret(t, nil).ObjectMeta, HasTokens: true}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, direct := testStore(t, tc.existing)
			snap, err := st.SaveGrant(context.Background(), testConnection(), grant, nil, at, "journey-2", tc.prev)
			if err != nil {
				t.Fatal(err)
			}
			if direct.gets != tc.gets {
				t.Errorf("%d direct reads, want %d", direct.gets, tc.gets)
			}
			got, err := snap.Tokens()
			if err != nil || got != grant {
				t.Fatalf("snapshot tokens = %+v, %v; want the grant", got, err)
			}
			if snap.Journey != "journey-2" || !snap.GrantedAt.Equal(at) || snap.InFlight {
				t.Errorf("snapshot facts = journey %q granted %s in flight %v", snap.Journey, snap.GrantedAt, snap.InFlight)
			}
			stored, err := st.Load(context.Background(), testConnection(), nil, true)
			if err != nil {
				t.Fatal(err)
			}
			if tok, _ := stored.Tokens(); tok != grant {
				t.Errorf("stored tokens = %+v, want the grant", tok)
			}
		})
	}
}

// TestSaveRefreshedReadsNothing: the tokens of a refresh are stored over the version the
// in-flight marker was written to, without reading it again; the marker goes with them.
func TestSaveRefreshedReadsNothing(t *testing.T) {
	st, direct := testStore(t, tokenSecret(t, func(s *corev1.Secret) { ClearRefreshInFlight(s) }))
	ctx := context.Background()
	whole, err := st.Load(ctx, testConnection(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	if err := st.MarkInFlight(ctx, whole, at); err != nil {
		t.Fatal(err)
	}
	reads := direct.gets
	next := provider.Tokens{AccessToken: "at-2", RefreshToken: "rt-2", TokenType: "Bearer", ExpiresAt: at.Add(time.Hour)}
	if err := st.SaveRefreshed(ctx, testConnection(), next, nil, at, whole); err != nil {
		t.Fatal(err)
	}
	if direct.gets != reads {
		t.Errorf("SaveRefreshed read the Secret %d times, want 0", direct.gets-reads)
	}
	stored, err := st.Load(ctx, testConnection(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := stored.Tokens(); tok != next || stored.InFlight {
		t.Errorf("stored %+v, in flight %v; want the new tokens without the marker", tok, stored.InFlight)
	}
}
