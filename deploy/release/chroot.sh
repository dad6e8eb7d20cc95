# Helpers of dist-check.sh and docker-emulate.sh (sourced): fresh Debian roots made from a
# cached debootstrap, servers started in them, and cleanup of both.
cache=/var/cache/parley-debootstrap/bookworm
cleanup_dirs=()
mounts=()
server_pid=""
server_log=""

cleanup() {
	stop_server 2>/dev/null || true
	for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
	for d in "${cleanup_dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT

fail() {
	echo "dist-check: FAILED: $*" >&2
	[ -n "$server_log" ] && [ -f "$server_log" ] && tail -40 "$server_log" >&2
	exit 1
}

# ensure_cache makes the debootstrap root once (minbase: no compiler, no Go, no npm).
ensure_cache() {
	[ -d "$cache" ] && return
	command -v debootstrap >/dev/null || fail "debootstrap missing (apt-get install debootstrap)"
	local mirror
	mirror=$(grep -rhoE '^[^#]*https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep -oE 'https?://[^ ]+' | head -1 || true)
	mkdir -p "$(dirname "$cache")"
	debootstrap --variant=minbase bookworm "$cache.tmp" "${mirror:-http://deb.debian.org/debian}" >&2
	mv "$cache.tmp" "$cache"
}

# fresh_root prints a new copy of the cached root, with /proc mounted as the unit's
# ProtectProc=invisible leaves it (other users' processes hidden), and the host's resolver
# for apt.
fresh_root() {
	local r
	r=$(mktemp -d /var/tmp/parley-check.XXXXXX)
	cleanup_dirs+=("$r")
	cp -a "$cache/." "$r/"
	cp /etc/resolv.conf "$r/etc/resolv.conf"
	mount -t proc -o hidepid=invisible proc "$r/proc"
	mounts+=("$r/proc")
	echo "$r"
}

free_port() {
	python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

# ports_env is the environment that moves every port of a zero-config Parley near port.
ports_env() {
	echo "PARLEY_SERVER_LISTEN=127.0.0.1:$1 PARLEY_LIVEKIT_PORT=$(($1 + 1)) PARLEY_LIVEKIT_RTC_TCP_PORT=$(($1 + 2)) PARLEY_LIVEKIT_RTC_UDP_PORT_START=$(($1 + 3)) PARLEY_LIVEKIT_RTC_UDP_PORT_END=$(($1 + 22))"
}

# start_in runs a shell command in root, in the background, logging to root/run.log.
start_in() {
	server_log="$1/run.log"
	chroot "$1" sh -c "$2" >>"$server_log" 2>&1 &
	server_pid=$!
}

# start_service runs parley in root the way parley.service does: its ExecStart, User,
# WorkingDirectory, UMask and NoNewPrivileges, read from the installed unit.
start_service() {
	local unit="$1/lib/systemd/system/parley.service" exec user wd umask
	exec=$(sed -n 's/^ExecStart=//p' "$unit")
	user=$(sed -n 's/^User=//p' "$unit")
	wd=$(sed -n 's/^WorkingDirectory=//p' "$unit")
	umask=$(sed -n 's/^UMask=//p' "$unit")
	start_in "$1" "umask $umask && cd $wd && exec setpriv --reuid=$user --regid=$user --init-groups --no-new-privs -- $exec"
}

# wait_ready polls /readyz on port until 200, up to 60 s.
wait_ready() {
	local code=000
	for _ in $(seq 1 120); do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz" || true)
		[ "$code" = 200 ] && return
		kill -0 "$server_pid" 2>/dev/null || fail "parley exited before it was ready"
		sleep 0.5
	done
	fail "/readyz answered $code after 60 s"
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
}

# post URL JSON [TOKEN] prints the answer; fails unless it is 2xx.
post() {
	curl -fsS -X POST -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2" "$1" || fail "POST $1"
}

json_field() {
	python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# version_of prints the version in a release archive's name.
version_of() {
	basename "$1" | sed -E 's/^parley-(.*)-linux-[a-z0-9]+\.tar\.gz$/\1/'
}

# previous_deb builds parley at commit FROM (the previous release) and packs it into a copy
# of DEB with a lower version, so the real .deb installs over it as an upgrade. The previous
# commit has no packaging of its own; the maintainer scripts and unit are this release's.
previous_deb() {
	local deb=$1 from=$2 work=$3 short
	short=$(git rev-parse --short=12 "$from")
	mkdir -p "$work/old"
	git archive "$from" | tar -x -C "$work/old"
	echo "dist-check: building the previous release $short" >&2
	(cd "$work/old" && CGO_ENABLED=1 go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=previous-$short" -o "$work/parley-old" ./server) >&2
	dpkg-deb -R "$deb" "$work/debA"
	install -m 0755 "$work/parley-old" "$work/debA/usr/lib/parley/parley"
	sed -i "s/^Version: .*/Version: 0~~previous.$short/" "$work/debA/DEBIAN/control"
	if [ -f "$work/debA/DEBIAN/md5sums" ]; then
		(cd "$work/debA" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | sort | xargs md5sum >DEBIAN/md5sums)
	fi
	dpkg-deb --root-owner-group -b "$work/debA" "$work/parley_0~~previous.${short}_amd64.deb" >&2
	echo "$work/parley_0~~previous.${short}_amd64.deb"
}
