#!/usr/bin/env bash
# make dist-check (root): the release on a fresh Debian with no Go, compiler or npm. Run
# make dist first. The debootstrap root is cached in /var/cache/parley-debootstrap/bookworm
# (a few minutes to make once); each check runs on a fresh copy of it.
#   1. the archive: unpacked, checksums verified, ./parley serves the web app, /readyz 200;
#   2. the .deb, as an upgrade: the previous release (PARLEY_UPGRADE_FROM, built here from
#      git and packed into the same package) is installed, run as the unit runs it and given
#      data; this release's .deb is installed over it; config, secrets and data are kept, the
#      service comes back and finds the data; then remove keeps config and data, purge does not;
#   3. the Dockerfile's steps, from the real archive (docker-emulate.sh: no Docker daemon here).
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/release/chroot.sh

from=${PARLEY_UPGRADE_FROM:-36d8cadd58ceff53824453bc6a240b11f5485ddb}
archive=$(ls dist/parley-*-linux-amd64.tar.gz 2>/dev/null | tail -1)
deb=$(ls dist/parley_*_amd64.deb 2>/dev/null | tail -1)
[ -n "$archive" ] && [ -n "$deb" ] || { echo "dist-check: no amd64 archive or .deb in dist/: run make dist" >&2; exit 1; }
ensure_cache

# 1. The archive, by hand, in a root without a toolchain.
root=$(fresh_root)
if chroot "$root" sh -c 'command -v go || command -v gcc || command -v cc || command -v npm'; then
	echo "dist-check: the root has a toolchain" >&2
	exit 1
fi
cp "$archive" "$root/tmp/"
chroot "$root" sh -ec 'cd /tmp && tar xzf parley-*.tar.gz && cd parley-*-linux-amd64 && sha256sum -c SHA256SUMS && ./parley version' | tee "$root/version.txt"
lk=$(go list -m -f '{{.Version}}' github.com/livekit/livekit-server)
grep -q "^parley $(version_of "$archive")$" "$root/version.txt" && grep -qE '^commit [0-9a-f]{40}$' "$root/version.txt" &&
	grep -q "^livekit-server $lk (pinned)$" "$root/version.txt" && grep -q "^livekit-server binary: .*/livekit-server (${lk#v})$" "$root/version.txt" ||
	fail "parley version does not name the version, the commit and the bundled LiveKit $lk"
port=$(free_port)
start_in "$root" "cd /tmp/parley-*-linux-amd64 && $(ports_env "$port") exec ./parley"
wait_ready "$port"
# Each answer is read whole before grep: grep -q stops reading at the first match, and the
# writer's SIGPIPE would fail the pipeline under pipefail.
grep -q '<title>Parley</title>' <<<"$(curl -fs "http://127.0.0.1:$port/")" || fail "the web app is not served"
stop_server
echo "dist-check: archive OK (checksums, readyz 200, web app served)"

# 2. The .deb over the previous release.
work=$(mktemp -d)
cleanup_dirs+=("$work")
debA=$(previous_deb "$deb" "$from" "$work")
root=$(fresh_root)
cp "$debA" "$deb" "$root/tmp/"
chroot "$root" dpkg -i "/tmp/$(basename "$debA")" >/dev/null
port=$(free_port)
# The administrator edits the conffile; an upgrade must keep it.
cat >>"$root/etc/parley/config.yaml" <<EOF
livekit:
  port: $((port + 1))
  rtc: {tcpPort: $((port + 2)), udpPortStart: $((port + 3)), udpPortEnd: $((port + 22))}
EOF
sed -i "s#listen: \"127.0.0.1:8090\"#listen: \"127.0.0.1:$port\"#" "$root/etc/parley/config.yaml"
cp "$root/etc/parley/config.yaml" "$work/config.edited"
start_service "$root"
wait_ready "$port"
api="http://127.0.0.1:$port/api"
post "$api/auth/register" '{"email":"alice@example.com","password":"alice-password-1234","name":"Alice"}' >"$work/alice.json"
token=$(json_field accessToken <"$work/alice.json")
post "$api/rooms" '{"name":"standup","title":"Daily standup","public":true}' "$token" >/dev/null
stop_server
sums_before=$(cd "$root/var/lib/parley" && sha256sum secrets.yaml)
old_version=$(chroot "$root" dpkg-query -W -f '${Version}' parley)

chroot "$root" dpkg -i "/tmp/$(basename "$deb")"
cmp -s "$work/config.edited" "$root/etc/parley/config.yaml" || fail "the upgrade changed /etc/parley/config.yaml"
[ "$(cd "$root/var/lib/parley" && sha256sum secrets.yaml)" = "$sums_before" ] || fail "the upgrade changed the generated secrets"
# stat in the root: the user parley exists there, not on this machine.
[ "$(chroot "$root" stat -c %a:%U /var/lib/parley)" = 700:parley ] || fail "/var/lib/parley is not 0700 parley after the upgrade"
start_service "$root"
wait_ready "$port"
token=$(post "$api/auth/login" '{"email":"alice@example.com","password":"alice-password-1234"}' | json_field accessToken)
grep -q '"title":"Daily standup"' <<<"$(curl -fs -H "Authorization: Bearer $token" "$api/rooms/standup")" || fail "the room is gone after the upgrade"
grep -q '^process_start_time_seconds' <<<"$(curl -fs "http://127.0.0.1:$port/metrics")" || fail "/metrics without process metrics under ProtectProc"
grep -q "^parley $(version_of "$archive")$" <<<"$(chroot "$root" /usr/bin/parley version)" || fail "parley version after the upgrade"
stop_server
echo "dist-check: .deb upgrade OK ($old_version -> $(chroot "$root" dpkg-query -W -f '${Version}' parley)): config, secrets, account and room kept, service back"

chroot "$root" sh -ec 'id parley; test -x /usr/lib/parley/livekit-server; test -L /usr/bin/parley
test -f /lib/systemd/system/parley.service; grep -q /etc/parley/config.yaml /var/lib/dpkg/info/parley.conffiles
dpkg -r parley >/dev/null; test -d /var/lib/parley; test -f /etc/parley/config.yaml; test ! -e /usr/bin/parley
dpkg -P parley >/dev/null; test ! -e /var/lib/parley; test ! -e /etc/parley; ! id parley 2>/dev/null' >/dev/null
echo "dist-check: .deb OK (user, 0700 data folder, unit, conffile; remove keeps, purge removes)"

# 3. The image.
deploy/release/docker-emulate.sh
