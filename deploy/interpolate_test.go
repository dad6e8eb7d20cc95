package deploy

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
)

// readEnvFile reads a docker compose .env file: KEY=VALUE lines, # comments, optional quotes.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			t.Fatalf("%s:%d: %q is not KEY=VALUE", path, n, line)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[strings.TrimSpace(k)] = v
	}
	return env
}

// interpolation records what compose substitution used while expanding a file.
type interpolation struct {
	env        map[string]string
	used       map[string]bool // every variable referenced
	required   map[string]bool // referenced without a default
	errs       []string
	fromEnvVar bool // the last interpolate call substituted at least one variable
}

func newInterpolation(env map[string]string) *interpolation {
	return &interpolation{env: env, used: map[string]bool{}, required: map[string]bool{}}
}

// interpolate applies docker compose's substitution to one string value: $$, $VAR, ${VAR},
// ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, ${VAR:+alt}, ${VAR+alt}.
func (in *interpolation) interpolate(s string) string {
	in.fromEnvVar = false
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				in.errs = append(in.errs, fmt.Sprintf("unclosed ${ in %q", s))
				return s
			}
			b.WriteString(in.expand(s[i+2 : i+end]))
			i += end
			continue
		}
		j := i + 1
		for j < len(s) && (s[j] == '_' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= '0' && s[j] <= '9') {
			j++
		}
		if j == i+1 {
			in.errs = append(in.errs, fmt.Sprintf("lone $ in %q (write $$ for a literal dollar)", s))
			b.WriteByte('$')
			continue
		}
		b.WriteString(in.expand(s[i+1 : j]))
		i = j - 1
	}
	return b.String()
}

func (in *interpolation) expand(expr string) string {
	in.fromEnvVar = true
	name, op, arg := expr, "", ""
	if k := strings.IndexAny(expr, ":-?+"); k >= 0 {
		name, op = expr[:k], expr[k:k+1]
		if op == ":" && k+1 < len(expr) {
			op = expr[k : k+2]
			arg = expr[k+2:]
		} else {
			arg = expr[k+1:]
		}
	}
	in.used[name] = true
	v, set := in.env[name]
	switch op {
	case "":
		in.required[name] = true
		return v
	case ":-":
		if v == "" {
			return arg
		}
	case "-":
		if !set {
			return arg
		}
	case ":?", "?":
		in.required[name] = true
		if !set || (op == ":?" && v == "") {
			in.errs = append(in.errs, fmt.Sprintf("%s: %s", name, arg))
		}
	case ":+", "+":
		if set && (op == "+" || v != "") {
			return arg
		}
		return ""
	default:
		in.errs = append(in.errs, fmt.Sprintf("unsupported substitution ${%s}", expr))
	}
	return v
}

// interpolateTree applies interpolate to every string of a decoded YAML document, the way
// compose does (after parsing, so substituted values never change the YAML structure).
func (in *interpolation) interpolateTree(v any) any {
	switch x := v.(type) {
	case string:
		return in.interpolate(x)
	case map[string]any:
		for k, e := range x {
			x[k] = in.interpolateTree(e)
		}
	case []any:
		for i, e := range x {
			x[i] = in.interpolateTree(e)
		}
	}
	return v
}

func TestInterpolate(t *testing.T) {
	in := newInterpolation(map[string]string{"A": "a", "EMPTY": ""})
	for _, tc := range []struct{ in, want string }{
		{"x${A}y", "xay"}, {"$A", "a"}, {"$$A", "$A"}, {"${B:-d}", "d"}, {"${EMPTY:-d}", "d"},
		{"${EMPTY-d}", ""}, {"${B-d}", "d"}, {"${A:+alt}", "alt"}, {"${B:+alt}", ""},
		{"${A:?need A}", "a"}, {"a: ${A}", "a: a"},
	} {
		if got := in.interpolate(tc.in); got != tc.want {
			t.Errorf("interpolate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if len(in.errs) != 0 {
		t.Fatalf("unexpected errors: %v", in.errs)
	}
	in.interpolate("${B:?set B}")
	if len(in.errs) != 1 {
		t.Fatalf("a missing required variable must be an error, got %v", in.errs)
	}
}
