# A static maillage binary alone in a distroless image: no shell, no package
# manager, running as an unprivileged user, its data in the /data volume.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t maillage .
#
# The build stage runs on the builder's own platform and cross-compiles, so
# `docker buildx build --platform linux/arm64 .` makes a Raspberry Pi image
# without emulation. cmd/maillage/docs/docker.md explains how to run it;
# cmd/maillage/docker_test.go checks this file against the code.

FROM --platform=$BUILDPLATFORM golang:1.27.3-trixie AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags "-s -w -X main.version=$VERSION" -o /out/maillage ./cmd/maillage
RUN install -d -m 0700 /out/data

FROM gcr.io/distroless/static-debian13:nonroot
COPY --from=build /out/maillage /usr/local/bin/maillage
# The data directory belongs to the image's user (65532, "nonroot"):
# Docker gives a new named volume the owner of the directory it covers.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV MAILLAGE_DATA=/data MAILLAGE_LISTEN=0.0.0.0:8080 MAILLAGE_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
# healthcheck reads MAILLAGE_LISTEN, as serve does, and asks /healthz on it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD ["/usr/local/bin/maillage", "healthcheck"]
# serve stops cleanly on SIGTERM (the default stop signal), draining
# requests for up to 15 s: give `docker stop` at least 30 s (-t 30).
ENTRYPOINT ["/usr/local/bin/maillage"]
CMD ["serve"]
