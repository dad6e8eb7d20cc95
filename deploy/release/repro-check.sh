#!/usr/bin/env bash
# make dist-repro: builds the release again from a fresh clone of HEAD in another directory
# and compares it byte for byte with dist/ (run make dist first, on a committed tree). When
# something differs it says which files, and which members of the archives.
set -euo pipefail
cd "$(dirname "$0")/../.."
git diff --quiet HEAD -- || { echo "dist-repro: the tree has uncommitted changes: commit, then make dist" >&2; exit 1; }
[ -f dist/SHA256SUMS ] || { echo "dist-repro: run make dist first" >&2; exit 1; }
clone=$(mktemp -d /var/tmp/parley-repro.XXXXXX)
trap 'rm -rf "$clone"' EXIT
git clone -q --no-local . "$clone"
git -C "$clone" checkout -q --detach "$(git rev-parse HEAD)"
echo "dist-repro: building $(git rev-parse --short=12 HEAD) again in $clone" >&2
(cd "$clone" && ARCHES=${ARCHES:-amd64 arm64} ./deploy/release/dist.sh >/dev/null)
status=0
while read -r sum file; do
	if [ ! -f "dist/$file" ]; then
		echo "dist-repro: dist/$file is missing (make dist on this commit first)" >&2
		status=1
	elif [ "$(sha256sum <"dist/$file" | cut -d' ' -f1)" != "$sum" ]; then
		echo "dist-repro: $file DIFFERS" >&2
		status=1
		case $file in
		*.tar.gz)
			diff <(tar -xzOf "dist/$file" --to-command='printf "%s %s\n" "$TAR_FILENAME" "$(sha256sum | cut -c1-16)"') \
				<(tar -xzOf "$clone/dist/$file" --to-command='printf "%s %s\n" "$TAR_FILENAME" "$(sha256sum | cut -c1-16)"') >&2 || true ;;
		*.deb)
			diff <(dpkg-deb -c "dist/$file") <(dpkg-deb -c "$clone/dist/$file") >&2 || echo "(same file list: the bytes of a member differ)" >&2 ;;
		esac
	else
		echo "dist-repro: $file identical ($sum)"
	fi
done <"$clone/dist/SHA256SUMS"
exit $status
