package jsonw

import (
	"encoding/json"
	"testing"
)

// AppendString writes every string as encoding/json does, escapes and invalid UTF-8 included.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `"quoted" \ back`, "<a href='x'>&amp;</a>", "tab\tnl\ncr\r\x00\x1f\x7f\b\f",
		"caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf-8", "\xe2\x80"} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: wrote %s, encoding/json writes %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("caf\u00e9 <\xff>")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: wrote %s, encoding/json writes %s", s, got, want)
		}
	})
}
