# syntax=docker/dockerfile:1
#
# consent-operator image: a static Go binary on distroless, running as non-root.
#
# Build (BuildKit is required for the cache mounts; docker >= 23 uses it by default):
#   docker build -t ghcr.io/consent-operator/consent-operator:0.1.0 .
#   docker build --target bank-sandbox -t ghcr.io/consent-operator/bank-sandbox:0.1.0 .
# Multi-platform (the builder cross-compiles, no emulation needed):
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     -t ghcr.io/consent-operator/consent-operator:0.1.0 --push .
#
# The default (last) target is the manager. The chart runs it with a read-only root
# filesystem; it writes only to /tmp and the SQLite data directory, both volumes.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS builder
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
# Dependencies first: this layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY api/ api/
COPY cmd/ cmd/
COPY controllers/ controllers/
COPY internal/ internal/
# CGO off: the SQLite driver (modernc.org/sqlite) is pure Go, so the binaries are
# static and run on distroless/static. -trimpath and -s -w make builds reproducible
# and smaller; VCS stamping is off because .git is not in the build context.
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/consent-operator ./cmd/consent-operator && \
    GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags="-s -w" -o /out/bank-sandbox ./cmd/bank-sandbox

# The bank sandbox (provider emulator) for demos and end-to-end tests; never for production.
FROM gcr.io/distroless/static:nonroot AS bank-sandbox
COPY --from=builder /out/bank-sandbox /bank-sandbox
USER 65532:65532
ENTRYPOINT ["/bank-sandbox"]

FROM gcr.io/distroless/static:nonroot AS manager
LABEL org.opencontainers.image.title="consent-operator" \
      org.opencontainers.image.description="Kubernetes operator for open-banking consents" \
      org.opencontainers.image.source="https://github.com/consent-operator/consent-operator"
COPY --from=builder /out/consent-operator /consent-operator
USER 65532:65532
ENTRYPOINT ["/consent-operator"]
