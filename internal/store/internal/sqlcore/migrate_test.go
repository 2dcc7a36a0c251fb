package sqlcore

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []int
		err   string
	}{
		{"ordered", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, []int{1, 2}, ""},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, "expected version 2"},
		{"not starting at 1", fstest.MapFS{"m/0002_b.sql": file("B")}, nil, "expected version 1"},
		{"stray file", fstest.MapFS{"m/0001_a.sql": file("A"), "m/README": file("x")}, nil, "unexpected entry"},
		{"bad name", fstest.MapFS{"m/1_a.sql": file("A")}, nil, "unexpected entry"},
	} {
		ms, err := LoadMigrations(tc.files, "m")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for i, m := range ms {
			if m.Version != tc.want[i] || m.Checksum == "" {
				t.Errorf("%s: migration %d = %+v", tc.name, i, m)
			}
		}
		if ms[0].Checksum == ms[1].Checksum {
			t.Errorf("%s: different files share a checksum", tc.name)
		}
	}
}

func TestCompositeKeyIsUnambiguous(t *testing.T) {
	pairs := [][2][]string{
		{{"a\x00", "b"}, {"a", "\x00b"}},
		{{"ab", "c"}, {"a", "bc"}},
		{{"a\x01", ""}, {"a", "\x01"}},
	}
	for _, p := range pairs {
		if compositeKey(p[0]...) == compositeKey(p[1]...) {
			t.Errorf("compositeKey(%q) == compositeKey(%q)", p[0], p[1])
		}
	}
}
