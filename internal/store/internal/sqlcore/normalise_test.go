package sqlcore

import (
	"encoding/json"
	"testing"
)

func TestNormObjectUnescapesHTML(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a": "M\u0026S"}`, `{"a":"M&S"}`},
		{`{"a":"\u003Cb\u003E"}`, `{"a":"<b>"}`},   // upper-case hex is the same escape
		{`{"a":"C:\\u0026"}`, `{"a":"C:\\u0026"}`}, // an escaped backslash, then text
		{`{"a":"\\\u0026"}`, `{"a":"\\&"}`},        // an escaped backslash, then an escape
		{`{"a":"\u00e9\u2028\"\n"}`, `{"a":"\u00e9\u2028\"\n"}`},
		{`{"n":1.50,"b":[true,null]}`, `{"n":1.50,"b":[true,null]}`},
	} {
		got, err := normObject(json.RawMessage(tc.in), item{"test", 0})
		if err != nil || string(got) != tc.want {
			t.Errorf("normObject(%s) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}
