# Parley: `make run` and `make test` are the two commands of the quick start.
SHELL := /bin/bash
GO ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# parley version also names the commit and the pinned livekit-server (deploy/release/dist.sh
# sets the same three for the release).
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(shell git rev-parse HEAD 2>/dev/null) \
	-X main.livekitVersion=$(shell $(GO) list -m -f '{{.Version}}' github.com/livekit/livekit-server 2>/dev/null)
WEB_SRC := $(shell find web/src web/index.html web/package.json web/vite.config.* web/tsconfig*.json -type f 2>/dev/null)
GO_SRC := $(shell find server internal web -name '*.go' -type f 2>/dev/null) go.mod go.sum

.PHONY: dist dist-check dist-repro run build livekit web test test-go test-web test-browser lint bench fuzz clean help

help:
	@echo "make run    build what is missing and start Parley (embedded LiveKit, SQLite)"
	@echo "make test   vet, unit, integration (real LiveKit), web and browser tests"
	@echo "make build  bin/parley (with the web app when npm is available)"
	@echo "make livekit  bin/livekit-server from the pinned Go tool"
	@echo "make bench  the performance table (bench/README.md)"
	@echo "make dist   the release in dist/ (archives, .deb); dist-check, dist-repro prove it"
	@echo "make lint   gofmt + go vet"
	@echo "make fuzz   explore the API fuzz test for FUZZTIME (default 10s) beyond its seeds"

run: build livekit
	@mkdir -p data
	./bin/parley $(ARGS)

build: bin/parley

# The web app is embedded when it is built (-tags webui); without npm the binary serves a page
# that says how to build it.
bin/parley: $(GO_SRC) web/dist/index.html
	@mkdir -p bin
	@if [ -f web/dist/index.html ]; then tags="-tags webui"; else tags=""; echo "note: building without the web app (npm missing)"; fi; \
	$(GO) build $$tags -ldflags "$(LDFLAGS)" -o bin/parley ./server

web: web/dist/index.html

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@if command -v npm >/dev/null; then cd web && npm ci --no-audit --no-fund; else echo "npm not found: skipping the web app"; fi

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	@if command -v npm >/dev/null; then cd web && npm run build; fi

# livekit-server is a Go tool pinned in go.mod; the build cache makes this a no-op when current.
livekit: bin/livekit-server

bin/livekit-server: go.mod go.sum
	@mkdir -p bin
	@[ -x $@ ] || echo "Building livekit-server v1.13.5 from the pinned Go tool (the first build takes a few minutes)..."
	$(GO) build -o $@ github.com/livekit/livekit-server/cmd/server
	@touch $@

# A real S3-compatible server for the recording storage tests, from its own module so its
# dependencies stay out of Parley's go.mod.
bin/versitygw: tools/s3server/go.mod tools/s3server/go.sum
	@mkdir -p bin
	cd tools/s3server && $(GO) build -o ../../bin/versitygw github.com/versity/versitygw/cmd/versitygw
	@touch $@

# A real ACME CA (Let's Encrypt's pebble) and its DNS/challenge test server for the
# certificate tests, from their own module like versitygw.
bin/pebble bin/pebble-challtestsrv &: tools/pebble/go.mod tools/pebble/go.sum
	@mkdir -p bin
	cd tools/pebble && $(GO) build -o ../../bin/pebble github.com/letsencrypt/pebble/v2/cmd/pebble
	cd tools/pebble && $(GO) build -o ../../bin/pebble-challtestsrv github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv
	@touch bin/pebble bin/pebble-challtestsrv

# Release archives and Debian packages in dist/ (deploy/release/dist.sh; reproducible).
dist:
	./deploy/release/dist.sh

# The release in a fresh debootstrap Debian without a toolchain (root): the archive, the .deb
# installed over the previous release, the Dockerfile's steps.
dist-check:
	./deploy/release/dist-check.sh

# The release built again from a fresh clone elsewhere, compared byte for byte with dist/.
dist-repro:
	./deploy/release/repro-check.sh

# A real OpenID provider (zitadel/oidc's example server plus a groups claim) for the single
# sign-on tests, from its own module like versitygw.
bin/oidcserver: tools/oidcserver/go.mod tools/oidcserver/go.sum tools/oidcserver/main.go
	@mkdir -p bin
	cd tools/oidcserver && $(GO) build -o ../../bin/oidcserver .
	@touch $@

# A real SMTP server with an HTTP API to read what it received, for the e-mail tests, from
# its own module like versitygw.
bin/mailpit: tools/mailpit/go.mod tools/mailpit/go.sum
	@mkdir -p bin
	cd tools/mailpit && $(GO) build -o ../../bin/mailpit github.com/axllent/mailpit
	@touch $@

lint:
	@out=$$(gofmt -l server internal web bench test deploy 2>/dev/null); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Browser tests run on their own, after everything else, so Chromium has the CPU.
test: lint livekit build test-go test-web test-browser

test-go: livekit bin/versitygw bin/pebble bin/pebble-challtestsrv bin/oidcserver bin/mailpit
	$(GO) test -p 2 -timeout 20m $$($(GO) list ./... | grep -v /test/browser)

test-web: web/node_modules/.package-lock.json
	@if command -v npm >/dev/null; then cd web && npm test; else echo "!!! npm not found: SKIPPING web unit tests"; fi

# The tests save screenshots of the main pages for review (PARLEY_ARTIFACTS to put them elsewhere).
ARTIFACTS := $(or $(PARLEY_ARTIFACTS),$(CURDIR)/test/browser/artifacts)
test-browser: build livekit bin/oidcserver bin/mailpit
	@PARLEY_ARTIFACTS=$(ARTIFACTS) $(GO) test -count=1 -timeout 10m ./test/browser/...; status=$$?; \
	  echo "browser screenshots: $(ARTIFACTS)"; exit $$status

bench: build livekit
	$(GO) run ./bench/cmd/parleybench

# `make test` runs FuzzRoutes' seed corpus like any test; this explores beyond it. The first
# run builds every package with coverage instrumentation, which takes minutes; later runs
# reuse the build cache.
FUZZTIME ?= 10s
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRoutes$$' -fuzztime $(FUZZTIME) ./internal/api/

clean:
	rm -rf bin web/dist
