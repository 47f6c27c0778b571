# Build a static maillage binary, then ship it alone in a small image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/maillage ./cmd/maillage

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/maillage /usr/local/bin/maillage
USER nonroot:nonroot
VOLUME ["/data"]
ENV MAILLAGE_DATA=/data MAILLAGE_LISTEN=0.0.0.0:8080 MAILLAGE_LOG_FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD ["/usr/local/bin/maillage", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/maillage"]
CMD ["serve"]
