#!/usr/bin/env bash
# make dist-check (root): the release on a fresh Debian with no Go, compiler or npm. The
# debootstrap root is cached in /var/cache/parley-debootstrap/bookworm (about 1 minute to
# make once); each check runs on a copy. Run make dist first.
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=/var/cache/parley-debootstrap/bookworm
if [ ! -d "$cache" ]; then
	if ! command -v debootstrap >/dev/null; then echo "!!! dist-check: SKIPPING: debootstrap missing (apt-get install debootstrap)" >&2; exit 0; fi
	mirror=$(grep -rhoE 'https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | head -1)
	debootstrap --variant=minbase bookworm "$cache.tmp" "${mirror:-http://deb.debian.org/debian}" && mv "$cache.tmp" "$cache"
fi
root=$(mktemp -d); trap 'umount "$root/proc" 2>/dev/null || true; kill "${pid:-}" 2>/dev/null || true; rm -rf "$root"' EXIT
cp -a "$cache/." "$root/"
cp dist/parley-*-linux-amd64.tar.gz dist/parley_*_amd64.deb "$root/tmp/"
if chroot "$root" sh -c 'command -v go || command -v gcc || command -v npm'; then echo "dist-check: the root has a toolchain" >&2; exit 1; fi
mount -t proc proc "$root/proc"
chroot "$root" sh -c 'cd /tmp && tar xzf parley-*.tar.gz && cd parley-*-linux-amd64 && sha256sum -c SHA256SUMS && ./parley version'
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
chroot "$root" sh -c "cd /tmp/parley-*-linux-amd64 && PARLEY_SERVER_LISTEN=127.0.0.1:$port PARLEY_LIVEKIT_PORT=$((port+1)) PARLEY_LIVEKIT_RTC_TCP_PORT=$((port+2)) PARLEY_LIVEKIT_RTC_UDP_PORT_START=41000 PARLEY_LIVEKIT_RTC_UDP_PORT_END=41019 exec ./parley" > "$root/run.log" 2>&1 &
pid=$!
code=0; for _ in $(seq 1 120); do code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz" || true); [ "$code" = 200 ] && break; sleep 0.5; done
[ "$code" = 200 ] || { cat "$root/run.log"; echo "dist-check: /readyz $code" >&2; exit 1; }
curl -fs "http://127.0.0.1:$port/" | grep -q '<title>Parley</title>' || { echo "dist-check: web app not served" >&2; exit 1; }
kill "$pid"; wait "$pid" || true
echo "dist-check: archive OK (readyz 200, web app served)"
chroot "$root" sh -ec 'dpkg -i /tmp/parley_*.deb; id parley; test "$(stat -c %a:%U /var/lib/parley)" = 700:parley
test -x /usr/lib/parley/livekit-server; test -L /usr/bin/parley; test -f /lib/systemd/system/parley.service; grep -q /etc/parley/config.yaml /var/lib/dpkg/info/parley.conffiles
dpkg -r parley; test -d /var/lib/parley; test -f /etc/parley/config.yaml
dpkg -P parley; test ! -e /var/lib/parley; test ! -e /etc/parley; ! id parley 2>/dev/null'
echo "dist-check: .deb OK (user, 0700 data folder, unit, conffile; remove keeps, purge removes)"
