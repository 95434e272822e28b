# syntax=docker/dockerfile:1
#
# Grafana with the Lagwatch datasource plugin installed, in three stages:
#   frontend  - Node 20: npm ci + npm run build        -> dist/ (module.js, plugin.json, ...)
#   backend   - Go: the plugin executable for the target architecture
#               -> dist/gpx_lagwatch_linux_<arch> (the name Grafana looks for)
#   final     - pinned Grafana OSS image with dist/ as
#               /var/lib/grafana/plugins/lagwatch-datasource
# and, for the exporter service of docker-compose.yaml (target: exporter),
#   exporter-build, exporter - the lagwatch CLI running `lagwatch serve`
#
# docker compose up --build builds it (docker-compose.yaml). The plugin is
# unsigned: only its id is allowed to load unsigned.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG GRAFANA_IMAGE=grafana/grafana:12.4.10
ARG EXPORTER_IMAGE=gcr.io/distroless/static-debian12:nonroot

# ---------------------------------------------------------------------------
# Frontend (platform independent output: build it natively).
FROM --platform=$BUILDPLATFORM ${NODE_IMAGE} AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json README.md CHANGELOG.md LICENSE ./
COPY .config/ .config/
COPY src/ src/
RUN npm run build && test -f dist/module.js && test -f dist/plugin.json

# ---------------------------------------------------------------------------
# Backend: cross-compiled on the build platform for TARGETARCH (amd64, arm64).
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS backend
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY pkg/ pkg/
RUN arch="${TARGETARCH:-amd64}" \
 && CGO_ENABLED=0 GOOS=linux GOARCH="$arch" \
    go build -trimpath -ldflags='-s -w' -o "dist/gpx_lagwatch_linux_${arch}" ./pkg \
 && chmod 0755 "dist/gpx_lagwatch_linux_${arch}"

# ---------------------------------------------------------------------------
# Exporter: `lagwatch serve` (Prometheus metrics) on a minimal image.
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS exporter-build
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY pkg/ pkg/
COPY cmd/ cmd/
RUN CGO_ENABLED=0 GOOS=linux GOARCH="${TARGETARCH:-amd64}" \
    go build -trimpath -ldflags='-s -w' -o /out/lagwatch ./cmd/lagwatch

FROM ${EXPORTER_IMAGE} AS exporter
COPY --from=exporter-build /out/lagwatch /usr/local/bin/lagwatch
EXPOSE 9465
ENTRYPOINT ["/usr/local/bin/lagwatch", "serve"]

# ---------------------------------------------------------------------------
FROM ${GRAFANA_IMAGE}
ARG TARGETARCH
ENV GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=lagwatch-datasource
COPY --from=frontend /src/dist/ /var/lib/grafana/plugins/lagwatch-datasource/
COPY --from=backend /src/dist/ /var/lib/grafana/plugins/lagwatch-datasource/
RUN test -x "/var/lib/grafana/plugins/lagwatch-datasource/gpx_lagwatch_linux_${TARGETARCH:-amd64}" \
 && test -f /var/lib/grafana/plugins/lagwatch-datasource/plugin.json
# The OCI cache directory (jsonData.ociCacheDir), owned by the grafana user so
# that the named volume compose mounts there starts writable.
USER root
RUN mkdir -p /var/lib/lagwatch/oci && chown -R 472:0 /var/lib/lagwatch && chmod 0750 /var/lib/lagwatch/oci
USER 472
