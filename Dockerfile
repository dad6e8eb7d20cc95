# syntax=docker/dockerfile:1
# Parley's image: the web app built with npm, embedded into the Go binary (-tags webui).
# It runs Parley only: in the cluster deployment LiveKit is a separate service
# (livekit.external: true), so no livekit-server binary is shipped.
#
#   docker build -t parley .                 # or: docker compose build
#   docker build --build-arg WITH_FFMPEG=1 . # adds ffmpeg for the built-in recorder

FROM node:22-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY server/ server/
COPY internal/ internal/
COPY web/ web/
COPY --from=web /src/web/dist/ web/dist/
ARG VERSION=dev
# CGO stays on: SQLite (the single-machine default) is the cgo driver.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -tags webui -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/parley ./server

FROM debian:bookworm-slim
ARG WITH_FFMPEG=0
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && if [ "$WITH_FFMPEG" = 1 ]; then apt-get install -y --no-install-recommends ffmpeg; fi \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 parley \
 && useradd --system --uid 10001 --gid parley --home-dir /data --shell /usr/sbin/nologin parley \
 && mkdir -p /data && chown parley:parley /data && chmod 0700 /data
COPY --from=build /out/parley /usr/local/bin/parley
USER parley:parley
WORKDIR /data
ENV PARLEY_SERVER_LISTEN=0.0.0.0:8090 \
    PARLEY_SERVER_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8090
# Ready means the database and LiveKit answer (GET /readyz); a container that is up but
# cannot reach them is reported unhealthy instead of receiving traffic.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:8090/readyz || exit 1
ENTRYPOINT ["/usr/local/bin/parley"]
CMD ["serve"]
