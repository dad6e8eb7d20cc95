// Package deploy holds the cluster deployment (docker-compose.yml at the repository root, the
// LiveKit YAML it mounts) and the tests that prove it without a Docker engine: the compose
// file is parsed, every Parley variable is checked against the configuration contract, and
// the LiveKit configuration is loaded by LiveKit's own loader in strict mode.
package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parley/parley/internal/testenv"
	"gopkg.in/yaml.v3"
)

// composeFile is the subset of the compose specification this deployment uses; decoding is
// strict, so a misspelt key (enviroment:, depend_on:) fails instead of being ignored.
type composeFile struct {
	Name     string                    `yaml:"name"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string                       `yaml:"image"`
	Build       *composeBuild                `yaml:"build"`
	Restart     string                       `yaml:"restart"`
	Command     []string                     `yaml:"command"`
	Entrypoint  []string                     `yaml:"entrypoint"`
	DependsOn   map[string]composeDependency `yaml:"depends_on"`
	Environment map[string]string            `yaml:"environment"`
	Volumes     []string                     `yaml:"volumes"`
	Ports       []string                     `yaml:"ports"`
	Healthcheck *composeHealthcheck          `yaml:"healthcheck"`
	CapAdd      []string                     `yaml:"cap_add"`
	ShmSize     string                       `yaml:"shm_size"`
}

type composeBuild struct {
	Context string            `yaml:"context"`
	Args    map[string]string `yaml:"args"`
}

type composeDependency struct {
	Condition string `yaml:"condition"`
}

type composeHealthcheck struct {
	Test     []string `yaml:"test"`
	Interval string   `yaml:"interval"`
	Timeout  string   `yaml:"timeout"`
	Retries  int      `yaml:"retries"`
}

// deployment is docker-compose.yml as compose would run it with .env.example as its .env.
type deployment struct {
	root     string
	env      map[string]string // .env.example
	raw      composeFile       // before substitution: tells literals from ${VARS}
	compose  composeFile       // after substitution
	interpol *interpolation
}

func loadDeployment(t *testing.T) *deployment {
	t.Helper()
	root := testenv.RepoRoot()
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read docker-compose.yml: %v", err)
	}
	d := &deployment{root: root, env: readEnvFile(t, filepath.Join(root, ".env.example"))}
	d.interpol = newInterpolation(d.env)
	var rawTree, tree any
	if err := yaml.Unmarshal(data, &rawTree); err != nil {
		t.Fatalf("docker-compose.yml is not YAML: %v", err)
	}
	_ = yaml.Unmarshal(data, &tree)
	decodeStrict(t, "docker-compose.yml", rawTree, &d.raw)
	decodeStrict(t, "docker-compose.yml (substituted)", d.interpol.interpolateTree(tree), &d.compose)
	return d
}

// decodeStrict re-encodes a generic YAML tree into a typed value, refusing unknown keys.
func decodeStrict(t *testing.T, what string, tree any, out any) {
	t.Helper()
	data, err := yaml.Marshal(tree)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func (d *deployment) service(t *testing.T, name string) composeService {
	t.Helper()
	s, ok := d.compose.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no %q service", name)
	}
	return s
}

func TestComposeServices(t *testing.T) {
	d := loadDeployment(t)
	for _, name := range []string{"parley", "livekit", "redis", "egress", "postgres", "minio"} {
		d.service(t, name)
	}
	for name, s := range d.compose.Services {
		if s.Image == "" {
			t.Errorf("service %s: no image", name)
		} else if tag := s.Image[strings.LastIndex(s.Image, ":")+1:]; !strings.Contains(s.Image, ":") || tag == "latest" {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for dep, cond := range s.DependsOn {
			other, ok := d.compose.Services[dep]
			if !ok {
				t.Errorf("service %s depends on %q, which does not exist", name, dep)
			}
			if cond.Condition == "service_healthy" && other.Healthcheck == nil {
				t.Errorf("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
			}
		}
	}
	if want := "livekit/livekit-server:v" + liveKitModuleVersion(t, d.root); d.service(t, "livekit").Image != want {
		t.Errorf("livekit image = %q, want %q (the version Parley is tested with, go.mod)", d.service(t, "livekit").Image, want)
	}
	if b := d.service(t, "parley").Build; b == nil || b.Context != "." {
		t.Errorf("parley must be built from the repository's Dockerfile (build.context: .)")
	}
	ports := strings.Join(d.service(t, "livekit").Ports, " ")
	for _, p := range []string{"7880:7880", "7881:7881", "50000-60000:50000-60000/udp", "3478:3478/udp", "5349:5349"} {
		if !strings.Contains(ports, p) {
			t.Errorf("livekit does not publish %s (ports: %s)", p, ports)
		}
	}
	if len(d.service(t, "redis").Ports) != 0 {
		t.Errorf("redis must not be published: only LiveKit and Egress talk to it")
	}
}

// liveKitModuleVersion is the livekit-server version go.mod pins (the one the tests run).
func liveKitModuleVersion(t *testing.T, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/livekit/livekit-server v(\S+)`).FindSubmatch(data)
	if m == nil {
		t.Fatal("go.mod does not require github.com/livekit/livekit-server")
	}
	return string(m[1])
}

func TestComposeEnvFile(t *testing.T) {
	d := loadDeployment(t)
	if len(d.interpol.errs) > 0 {
		t.Errorf("substituting .env.example into docker-compose.yml: %s", strings.Join(d.interpol.errs, "; "))
	}
	for name := range d.interpol.required {
		if _, ok := d.env[name]; !ok {
			t.Errorf("docker-compose.yml needs ${%s}, which .env.example does not define", name)
		}
	}
	for name := range d.env {
		if !d.interpol.used[name] {
			t.Errorf(".env.example defines %s, which docker-compose.yml never uses", name)
		}
	}
	for _, ignore := range []string{".gitignore", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(d.root, ignore))
		if err != nil || !regexp.MustCompile(`(?m)^/?\.env$`).Match(data) {
			t.Errorf("%s must list .env (it holds the deployment's secrets)", ignore)
		}
	}
}

// TestDockerfile checks the image against the release it is made from (no Docker daemon
// here; dist-check.sh runs its steps on a Debian root): the archive name dist.sh writes
// matches the Dockerfile's COPY, the build context lets it through, and it is verified.
func TestDockerfile(t *testing.T) {
	root := testenv.RepoRoot()
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	df, dist, ignore := read("Dockerfile"), read("deploy/release/dist.sh"), read(".dockerignore")
	for _, want := range []struct{ re, why string }{
		{`(?m)^FROM debian:bookworm-slim AS release$`, "the archive is unpacked on the Debian release it is built and checked on"},
		{`sha256sum -c SHA256SUMS`, "the archive's checksums are verified"},
		{`(?m)^COPY --from=release /opt/parley/ /opt/parley/$`, "parley and the livekit-server beside it are copied together"},
		{`(?m)^ENTRYPOINT \["/opt/parley/parley"\]`, "the entry point is the released binary"},
		{`(?m)^USER parley`, "the container runs as a non-root user"},
		{`(?m)^HEALTHCHECK .*\n?.*\/readyz`, "the health check is Parley's readiness"},
	} {
		if !regexp.MustCompile(want.re).MatchString(df) {
			t.Errorf("Dockerfile: %s (no match for %s)", want.why, want.re)
		}
	}
	if strings.Contains(df, "go build") || strings.Contains(df, "npm ") {
		t.Errorf("Dockerfile builds from source; it must copy the release archive")
	}

	copySrc := regexp.MustCompile(`(?m)^COPY (dist/\S+\.tar\.gz) `).FindStringSubmatch(df)
	name := regexp.MustCompile(`(?m)^\s*name=(parley-\$VERSION-linux-\$arch)$`).FindStringSubmatch(dist)
	if copySrc == nil || name == nil {
		t.Fatalf("Dockerfile COPY dist/....tar.gz (%v) or dist.sh name=parley-$VERSION-linux-$arch (%v) not found", copySrc, name)
	}
	for _, c := range []struct{ version, arch, buildArg string }{
		{"v1.2.0", "amd64", ""}, {"0123456789ab+dirty", "arm64", ""}, {"v1.2.0", "amd64", "v1.2.0"},
	} {
		archive := "dist/" + strings.NewReplacer("$VERSION", c.version, "$arch", c.arch).Replace(name[1]) + ".tar.gz"
		pattern := strings.NewReplacer("${VERSION}", c.buildArg, "${TARGETARCH}", c.arch).Replace(copySrc[1])
		if ok, err := filepath.Match(pattern, archive); !ok || err != nil {
			t.Errorf("the Dockerfile's COPY %s (VERSION=%q) does not match the archive dist.sh writes, %s", pattern, c.buildArg, archive)
		}
		if ok, _ := filepath.Match(strings.TrimPrefix(ignoreException(ignore), "!"), archive); !ok {
			t.Errorf(".dockerignore keeps %s out of the build context", archive)
		}
	}
}

// ignoreException is the .dockerignore line that lets the release archives in.
func ignoreException(ignore string) string {
	for _, l := range strings.Split(ignore, "\n") {
		if strings.HasPrefix(l, "!dist/") {
			return l
		}
	}
	return ""
}
