#!/usr/bin/env bash
# make dist: the release, reproducible from the commit alone. For each architecture that
# builds here it writes dist/parley-<version>-linux-<arch>.tar.gz and
# dist/parley_<debversion>_<arch>.deb, then dist/SHA256SUMS over all of them.
#
# Two runs on the same commit give the same bytes: -trimpath, no VCS stamp or build id, the
# commit time for every mtime (SOURCE_DATE_EPOCH), sorted tar entries owned by 0:0, gzip -n.
#
#   ARCHES="amd64 arm64" (default: both; arm64 needs gcc-aarch64-linux-gnu for SQLite's cgo)
#   VERSION=v1.2.0       (default: git describe --tags, else the short commit)
set -euo pipefail
cd "$(dirname "$0")/../.."
GO=${GO:-go}

commit=$(git rev-parse HEAD)
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty="+dirty"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
if tag=$(git describe --tags --dirty=+dirty 2>/dev/null); then
	VERSION=${VERSION:-$tag}
	DEB_VERSION=${DEB_VERSION:-${VERSION#v}}
else
	VERSION=${VERSION:-$(git rev-parse --short=12 HEAD)$dirty}
	# Debian versions must start with a digit and sort by time: 0~git<commit date>.<sha>.
	DEB_VERSION=${DEB_VERSION:-0~git$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M%S).$(git rev-parse --short=12 HEAD)$dirty}
fi
livekit=$($GO list -m -f '{{.Version}}' github.com/livekit/livekit-server)
export DEB_VERSION
ARCHES=${ARCHES:-amd64 arm64}
ldflags="-s -w -buildid= -X main.version=$VERSION -X main.commit=$commit -X main.livekitVersion=$livekit"

# The web app, embedded into every parley binary (-tags webui).
if ! command -v npm >/dev/null; then
	echo "dist: npm is required to build the web app that the release embeds" >&2
	exit 1
fi
(cd web && { [ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build) >&2

nfpm=bin/nfpm
(cd tools/nfpm && $GO build -trimpath -o ../../$nfpm github.com/goreleaser/nfpm/v2/cmd/nfpm)

mkdir -p dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
built=()
for arch in $ARCHES; do
	case "$arch" in
	amd64) cc=${CC_amd64:-x86_64-linux-gnu-gcc} ;;
	arm64) cc=${CC_arm64:-aarch64-linux-gnu-gcc} ;;
	*) echo "dist: unknown architecture $arch" >&2; exit 1 ;;
	esac
	if [ "$arch" = "$($GO env GOHOSTARCH)" ] && ! command -v "$cc" >/dev/null; then cc=gcc; fi
	if ! command -v "$cc" >/dev/null; then
		echo "!!! dist: SKIPPING linux-$arch: no C cross compiler $cc for SQLite's cgo (apt-get install gcc-aarch64-linux-gnu)" >&2
		continue
	fi
	name=parley-$VERSION-linux-$arch
	stage=$work/$name
	mkdir -p "$stage"
	echo "dist: building $name (livekit-server $livekit)" >&2
	CGO_ENABLED=1 GOOS=linux GOARCH=$arch CC=$cc $GO build -tags webui -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$stage/parley" ./server
	# livekit-server is pure Go: a static binary that runs on any Linux of the architecture.
	CGO_ENABLED=0 GOOS=linux GOARCH=$arch $GO build -trimpath -buildvcs=false -ldflags "-s -w -buildid=" \
		-o "$stage/livekit-server" github.com/livekit/livekit-server/cmd/server
	$GO run ./deploy/release/notices "$stage/parley" "$stage/livekit-server" > "$stage/THIRD_PARTY_NOTICES"
	cp config.yaml.example deploy/parley.service "$stage/"
	cp deploy/release/INSTALL.txt "$stage/INSTALL.txt"
	(cd "$stage" && sha256sum INSTALL.txt THIRD_PARTY_NOTICES config.yaml.example livekit-server parley parley.service > SHA256SUMS)
	chmod 0755 "$stage/parley" "$stage/livekit-server"
	find "$stage" -type f ! -name parley ! -name livekit-server -exec chmod 0644 {} +
	chmod 0755 "$stage"
	find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	tar -C "$work" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
		--mtime="@$SOURCE_DATE_EPOCH" -cf - "$name" | gzip -n -9 > "dist/$name.tar.gz"
	built+=("$name.tar.gz")

	deb=parley_${DEB_VERSION}_$arch.deb
	# nfpm expands the environment in scalar fields but not in contents' src.
	sed "s#\${STAGE}#$stage#g" deploy/nfpm.yaml > "$work/nfpm-$arch.yaml"
	GOARCH=$arch $nfpm package --config "$work/nfpm-$arch.yaml" --packager deb --target "dist/$deb" >&2
	built+=("$deb")
done
if [ ${#built[@]} -eq 0 ]; then
	echo "dist: nothing was built" >&2
	exit 1
fi
(cd dist && sha256sum "${built[@]}" > SHA256SUMS)
echo "dist: version $VERSION (deb $DEB_VERSION), commit $commit, livekit-server $livekit" >&2
(cd dist && cat SHA256SUMS)
