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

# Debian packages the tests use: libssl-dev for the TPM simulator (cgo).
DEB_PACKAGES := gcc libssl-dev

.PHONY: all build run test test-unit lint deps clean

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

lint:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt needed:"; echo "$$bad"; exit 1; fi
	$(GO) vet ./...

test: deps lint test-unit

test-unit:
	$(GO) test -count=1 -timeout 15m ./...

clean:
	rm -rf $(BUILD)
