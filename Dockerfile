# syntax=docker/dockerfile:1
# Parley's image, made from the release archive that `make dist` writes: the same bytes as the
# downloadable release (checked against its SHA256SUMS), so the image needs no toolchain and
# runs exactly what was released. It holds the bundled livekit-server too: alone it runs the
# embedded SFU; in docker-compose.yml it runs with livekit.external: true next to LiveKit.
#
#   make dist && docker build -t parley .          # or: docker compose build
#   docker build --build-arg VERSION=v1.2.0 .      # when dist/ holds several versions
#   docker build --build-arg WITH_FFMPEG=1 .       # adds ffmpeg for the built-in recorder
#
# deploy/release/dist-check.sh runs these steps on a Debian bookworm root (no Docker daemon
# on the development machines), from the real archive, up to a healthy /readyz.

FROM debian:bookworm-slim AS release
ARG TARGETARCH
ARG VERSION=
COPY dist/parley-${VERSION}*-linux-${TARGETARCH}.tar.gz /tmp/release/
# One archive for this architecture, unpacked into /opt/parley and verified.
RUN set -eu; cd /tmp/release; set -- parley-*-linux-"${TARGETARCH}".tar.gz; \
    if [ "$#" -ne 1 ]; then echo "dist/ holds $# archives for linux-${TARGETARCH}: pass --build-arg VERSION=<version>" >&2; exit 1; fi; \
    mkdir -p /opt/parley; tar -xzf "$1" --strip-components=1 --no-same-owner -C /opt/parley; \
    cd /opt/parley; sha256sum -c SHA256SUMS; ./parley version

FROM debian:bookworm-slim
ARG WITH_FFMPEG=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && if [ "$WITH_FFMPEG" = 1 ]; then apt-get install -y --no-install-recommends ffmpeg; fi \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /data --shell /usr/sbin/nologin parley \
 && mkdir -p /data && chown parley:parley /data && chmod 0700 /data
# parley finds livekit-server beside itself.
COPY --from=release /opt/parley/ /opt/parley/
USER parley:parley
WORKDIR /data
ENV PARLEY_SERVER_LISTEN=0.0.0.0:8090 \
    PARLEY_SERVER_DATA_DIR=/data
VOLUME ["/data"]
# 8090 Parley; with the embedded SFU also 7880 (signalling), 7881/tcp and the UDP media range.
EXPOSE 8090
# Ready means the database and LiveKit answer (GET /readyz); a container that is up but
# cannot reach them is reported unhealthy instead of receiving traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8090/readyz || exit 1
ENTRYPOINT ["/opt/parley/parley"]
CMD ["serve"]
