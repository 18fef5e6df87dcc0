# switchboard: the control plane only. Envoy runs as its own container (see
# docker-compose.yaml), configured over ADS on :18000.
#
#   docker build -t switchboard .
#   docker run -p 8001:8001 -p 18000:18000 switchboard

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first: this layer stays cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/switchboard ./cmd/switchboard

# Alpine rather than distroless: compose's bootstrap step needs a shell to
# write `switchboard envoy-bootstrap` output into a shared volume.
FROM alpine:3.22
RUN adduser -D -H -u 10001 switchboard \
 && mkdir -p /data && chown switchboard /data
COPY --from=build /out/switchboard /usr/local/bin/switchboard
USER switchboard
WORKDIR /data
# 8001 Admin API (Kong's port), 18000 xDS (ADS gRPC) for Envoys.
EXPOSE 8001 18000
ENTRYPOINT ["switchboard"]
CMD ["serve", "--admin-listen", "0.0.0.0:8001", "--xds-listen", "0.0.0.0:18000", "--data-dir", "/data"]
