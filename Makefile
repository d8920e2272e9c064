# ChatSecure Box. The two commands a newcomer needs:
#   make run    the whole box in dev mode on embedded defaults
#   make test   every test (installs what the tests need first)
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/chatsecure/box/appliance.Version=$(VERSION)
BUILD := build

TARGET ?= amd64

# Debian packages the tests use: libssl-dev for the TPM simulator (cgo),
# python3-slixmpp for the XMPP interop test, chromium for the console's
# browser test. images/scripts/deps.sh adds what image building and the
# qemu end-to-end test need.
DEB_PACKAGES := gcc libssl-dev python3-slixmpp chromium

.PHONY: all build run test test-unit test-browser test-e2e lint deps clean image images

all: build

build:
	@mkdir -p $(BUILD)
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BUILD)/ ./cmd/...

# Dev mode: data under ./var/dev, software key sealer (loud warning), fake
# GPIO, self-signed TLS, domain localhost. Ctrl-C stops it; data stays.
run: build
	./$(BUILD)/boxd -dev

# deps installs the Debian packages the tests need (as root), or prints the
# exact command when not root.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
		else \
			echo "missing Debian packages; run: sudo apt-get install -y$$missing"; exit 1; \
		fi; \
	fi
	@if [ "$$(id -u)" = 0 ]; then sh images/scripts/deps.sh; \
	else echo "not root: run sudo sh images/scripts/deps.sh for image building and qemu"; fi
	@cd services/console/e2e && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...

test: deps lint test-unit test-browser test-e2e

test-unit:
	$(GO) test -count=1 -timeout 15m ./...

# The console in headless Chromium (playwright-core, no browser download).
test-browser:
	$(GO) test -count=1 -tags browser -timeout 10m -run 'TestBrowser' ./services/console/... ./cmd/boxctl/...

# Images built and checked; the amd64 one booted in qemu (TCG) with swtpm.
test-e2e:
	$(GO) test -count=1 -tags e2e -timeout 20m ./images/...

# make image TARGET=pi|amd64 → build/box-<target>-<version>.img (+ update payloads)
image:
	$(GO) run ./cmd/boxbuild image -target $(TARGET) -version $(VERSION)

images:
	$(MAKE) image TARGET=amd64
	$(MAKE) image TARGET=pi

clean:
	rm -rf $(BUILD)

# Side-by-side XMPP load: the box, Prosody and ejabberd from Debian on
# loopback (needs root; installs prosody and ejabberd). Prints each case and
# the ratios Box/Prosody and Box/ejabberd. bench-quick: small counts (~3 min).
BENCH_BIN := /tmp/xmppbench/bin
BENCH_ENV = XMPPLOAD=$(BENCH_BIN)/xmppload \
	BOX_START='$(CURDIR)/cmd/xmppload/bench/box-start.sh $(BENCH_BIN)/boxd $$BENCH_DIR/box/data' \
	BOX_USERS_LIVE=1 \
	BOX_USERS='$(CURDIR)/cmd/xmppload/bench/box-users.sh $(BENCH_BIN)/boxctl $$BENCH_DIR/box/data $$1'

.PHONY: bench bench-quick bench-deps
bench-deps:
	@dpkg -s prosody ejabberd >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prosody ejabberd openssl iproute2 util-linux; }
	@mkdir -p $(BENCH_BIN) && $(GO) build -o $(BENCH_BIN)/ ./cmd/boxd ./cmd/boxctl ./cmd/xmppload

bench: bench-deps
	$(BENCH_ENV) cmd/xmppload/bench/bench.sh full

bench-quick: bench-deps
	$(BENCH_ENV) cmd/xmppload/bench/bench.sh quick
