// Command notices writes THIRD_PARTY_NOTICES for the release: the license texts of every Go
// module linked into the given binaries (read from their embedded build information, as
// `go version -m` lists them), taken from the module cache, plus the Go distribution's own.
//
//	go run ./deploy/release/notices dist/parley dist/livekit-server > THIRD_PARTY_NOTICES
package main

import (
	"debug/buildinfo"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"unicode"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
}

// module is one module version linked into at least one binary.
type module struct {
	Path, Version, Dir string
	In                 []string // the binaries that link it
}

// licenseFile matches the files that carry a module's license terms.
var licenseFile = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents)([.-].*)?$`)

func run(bins []string, w io.Writer) error {
	if len(bins) == 0 {
		return fmt.Errorf("usage: notices BINARY...")
	}
	modCache, err := goEnv("GOMODCACHE")
	if err != nil {
		return err
	}
	mods := map[string]*module{}
	goVersion := ""
	for _, bin := range bins {
		bi, err := buildinfo.ReadFile(bin)
		if err != nil {
			return fmt.Errorf("%s: %w", bin, err)
		}
		goVersion = bi.GoVersion
		deps := []debug.Module{bi.Main}
		for _, d := range bi.Deps {
			if d.Replace != nil {
				d = d.Replace
			}
			deps = append(deps, *d)
		}
		for _, d := range deps {
			if d.Version == "" || d.Version == "(devel)" {
				continue // the main module of a local build: Parley itself, noted separately
			}
			key := d.Path + "@" + d.Version
			if mods[key] == nil {
				mods[key] = &module{Path: d.Path, Version: d.Version, Dir: filepath.Join(modCache, escape(d.Path)+"@"+escape(d.Version))}
			}
			mods[key].In = append(mods[key].In, filepath.Base(bin))
		}
	}
	keys := make([]string, 0, len(mods))
	for k := range mods {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	fmt.Fprintf(w, "Third-party software in this release\n====================================\n\n")
	fmt.Fprintf(w, "The binaries (%s) are built with Go %s and link the Go modules below.\n", strings.Join(baseNames(bins), ", "), goVersion)
	fmt.Fprintf(w, "Each section names the module, the binaries that contain it and its license files.\n")
	fmt.Fprintf(w, "livekit-server is LiveKit's SFU (github.com/livekit/livekit-server, Apache License 2.0), built unmodified from the module.\n\n")
	var missing []string
	goroot := runtime.GOROOT()
	if out, err := goEnv("GOROOT"); err == nil {
		goroot = out
	}
	if err := section(w, "The Go programming language (runtime and standard library)", goVersion, goroot, baseNames(bins)); err != nil {
		missing = append(missing, "Go distribution ("+goroot+")")
	}
	for _, k := range keys {
		m := mods[k]
		if err := section(w, m.Path, m.Version, m.Dir, m.In); err != nil {
			missing = append(missing, k+": "+err.Error())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no license file found for:\n  %s", strings.Join(missing, "\n  "))
	}
	return nil
}

// section writes one module's license files; a module without any is an error, so a
// release never ships a dependency whose terms it does not carry.
func section(w io.Writer, name, version, dir string, in []string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("not in the module cache (%v); run go mod download", err)
	}
	var files []string
	for _, e := range entries {
		if !e.IsDir() && licenseFile.MatchString(e.Name()) {
			files = append(files, e.Name())
		}
	}
	if len(files) == 0 {
		return fmt.Errorf("no LICENSE/COPYING/NOTICE file in %s", dir)
	}
	sort.Strings(files)
	fmt.Fprintf(w, "%s\n%s %s (in %s)\n%s\n\n", strings.Repeat("-", 78), name, version, strings.Join(in, ", "), strings.Repeat("-", 78))
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "== %s ==\n%s\n\n", f, strings.TrimRightFunc(string(b), unicode.IsSpace))
	}
	return nil
}

// escape is the module cache's case encoding: an upper-case letter becomes '!' + lower case.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func goEnv(key string) (string, error) {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", key, err)
	}
	return strings.TrimSpace(string(out)), nil
}
