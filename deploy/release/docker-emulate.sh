#!/usr/bin/env bash
# The Dockerfile's steps without a Docker daemon (none runs on the development machines):
# every stage is a fresh Debian bookworm root (the Dockerfile's base), COPY takes the real
# release archive from dist/, RUN runs in the root with the stage's ARG and ENV, and the
# final stage is started the way `docker run` would start it: its ENTRYPOINT + CMD as its
# USER in its WORKDIR with its ENV, in a network namespace of its own; then its HEALTHCHECK
# command is run in it until it passes. Only the instructions the Dockerfile uses are known;
# anything else stops the check. Build arguments: BUILD_ARGS="VERSION=v1.2.0 WITH_FFMPEG=1".
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/release/chroot.sh
ensure_cache

declare -A stages build_args arg_values
for kv in ${BUILD_ARGS:-}; do build_args[${kv%%=*}]=${kv#*=}; done
build_args[TARGETARCH]=${build_args[TARGETARCH]:-amd64} # what BuildKit sets for the platform
root="" user=root workdir=/ entry="" cmd="" health=""
envs=()

# expand replaces $NAME and ${NAME} with the stage's ARG and ENV values, as Docker does in
# COPY, ENV, USER and WORKDIR (never in RUN: the shell does that there).
expand() {
	local s=$1 k v
	for kv in "${envs[@]}" $(for k in "${!arg_values[@]}"; do printf '%s=%s\n' "$k" "${arg_values[$k]}"; done); do
		k=${kv%%=*} v=${kv#*=}
		s=${s//\$\{$k\}/$v}
		s=${s//\$$k/$v}
	done
	echo "$s"
}

# stage_env prints the stage's ARG and ENV values, one NAME=value a line (none: nothing,
# not an empty line that env would take for the command).
stage_env() {
	for k in "${!arg_values[@]}"; do printf '%s=%s\n' "$k" "${arg_values[$k]}"; done
	for kv in "${envs[@]}"; do printf '%s\n' "$kv"; done
}

json_cmd() { python3 -c 'import json,shlex,sys; print(shlex.join(json.loads(sys.argv[1])))' "$1"; }

# Logical lines: comments dropped, continuations joined.
lines=$(mktemp)
cleanup_dirs+=("$lines")
grep -v '^[[:space:]]*#' Dockerfile | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | grep -v '^[[:space:]]*$' >"$lines" || true
while IFS= read -r line; do
	instr=${line%% *} rest=${line#* }
	case $instr in
	FROM)
		root=$(fresh_root) user=root workdir=/ envs=() entry="" cmd="" health=""
		arg_values=()
		if [[ $rest =~ \ AS\ ([A-Za-z0-9_-]+)$ ]]; then stages[${BASH_REMATCH[1]}]=$root; fi
		echo "docker-emulate: FROM $rest" >&2 ;;
	ARG)
		name=${rest%%=*} default=""
		[[ $rest == *=* ]] && default=${rest#*=}
		arg_values[$name]=${build_args[$name]:-$default} ;;
	ENV)
		for kv in $(expand "$rest"); do envs+=("$kv"); done ;;
	COPY)
		from=""
		if [[ $rest == --from=* ]]; then from=${rest%% *} from=${from#--from=} rest=${rest#* }; fi
		read -r src dst <<<"$(expand "$rest")"
		mkdir -p "$root$dst"
		if [ -n "$from" ]; then
			cp -a "${stages[$from]}$src/." "$root$dst"
		else
			matches=($src)
			[ -e "${matches[0]}" ] || fail "COPY $src: no such file in the build context (make dist)"
			cp "${matches[@]}" "$root$dst"
		fi ;;
	RUN)
		echo "docker-emulate: RUN ${rest:0:70}..." >&2
		mapfile -t e < <(stage_env)
		chroot "$root" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			DEBIAN_FRONTEND=noninteractive "${e[@]}" /bin/sh -c "cd $workdir && $rest" >&2 || fail "RUN $rest" ;;
	USER) user=$(expand "$rest") ;;
	WORKDIR) workdir=$(expand "$rest") && mkdir -p "$root$workdir" ;;
	ENTRYPOINT) entry=$(json_cmd "$rest") ;;
	CMD) cmd=$(json_cmd "$rest") ;;
	HEALTHCHECK) health=${rest#* CMD } ;;
	EXPOSE | VOLUME) ;;
	*) fail "docker-emulate: unsupported instruction $instr" ;;
	esac
done <"$lines"

[ -n "$entry" ] && [ -n "$health" ] || fail "the Dockerfile's last stage has no ENTRYPOINT or HEALTHCHECK"
uid=${user%%:*} gid=${user#*:}
e=("${envs[@]}")
server_log="$root/run.log"
run="env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=$workdir $(printf '%q ' "${e[@]}")"
as_user="setpriv --reuid=$uid --regid=$gid --clear-groups --"
# Like a container: a network namespace of its own (the image's fixed ports are free there),
# with a veth address besides loopback so LiveKit has an address to advertise.
unshare --net --fork bash -c "
	set -e
	ip link set lo up
	ip link add v0 type veth peer name v1 && ip addr add 10.99.0.1/24 dev v0 && ip link set v1 up && ip link set v0 up
	chroot '$root' $as_user sh -c 'cd $workdir && exec $run $entry $cmd' >>'$server_log' 2>&1 &
	pid=\$!
	for i in \$(seq 1 120); do
		if chroot '$root' $as_user sh -c '$health' 2>/dev/null; then ok=1; break; fi
		kill -0 \$pid 2>/dev/null || break
		sleep 0.5
	done
	kill -TERM \$pid; wait \$pid || true
	[ -n \"\${ok:-}\" ]
" || fail "the image's HEALTHCHECK never passed"
[ "$(stat -c %a "$root$workdir")" = 700 ] && [ -s "$root$workdir/parley.db" ] || fail "the data folder $workdir is not 0700 or holds no database"
echo "dist-check: Dockerfile OK (archive verified and unpacked, image user $user, HEALTHCHECK passed, data in $workdir)"
