# Accute. `make` alone lists the targets.
#
# Go 1.26.8's standard library has known vulnerabilities fixed in later patch
# releases: every target builds with this toolchain (fetched by the go
# command through the module proxy on first use).
export GOTOOLCHAIN=go1.26.11

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

STATICCHECK_VERSION := v0.8.2
# 0: staticcheck findings are printed but do not fail `make lint`.
STATICCHECK_FATAL ?= 1
# Fuzzing time per Fuzz* target.
FUZZTIME ?= 30s
# Extra flags for the load test, e.g. make bench BENCH_ARGS='-duration 20s'.
BENCH_ARGS ?=

.PHONY: help deps generate check-generated lint build run test fuzz bench clean

help: ## Show this help
	@echo "Usage: make TARGET"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install missing system packages (PostgreSQL server, Chromium, Tesseract OCR) when root; otherwise say what to install
	@bash scripts/deps.sh postgres chromium ocr

generate: ## Regenerate templ components and sqlc queries
	go tool templ generate
	CGO_ENABLED=0 go tool sqlc generate

check-generated: generate ## Fail if generated code (internal/db, views) differs from what is committed
	@changes=$$(git status --porcelain --untracked-files=all -- internal/db views); \
	if [ -n "$$changes" ]; then \
		echo "Generated code is stale or uncommitted:"; echo "$$changes"; \
		echo "Run 'make generate' and commit the result."; \
		git --no-pager diff --stat -- internal/db views; \
		exit 1; \
	fi; \
	echo "generated code is up to date"

lint: ## go vet, gofmt, templ fmt check, and staticcheck when it can be installed
	go vet ./...
	@files=$$(find . -path ./.data -prune -o -path ./bin -prune -o -path ./.git -prune -o -name '*.go' -print | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$files"; exit 1; fi
	@# -fail exits non-zero when a template was not formatted (it also formats it in place).
	go tool templ fmt -fail .
	@if GOBIN="$(CURDIR)/bin" go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) 2>/dev/null; then \
		echo "bin/staticcheck ./..."; \
		if ! bin/staticcheck ./...; then \
			if [ "$(STATICCHECK_FATAL)" = 1 ]; then exit 1; fi; \
			echo "note: staticcheck reported findings (not fatal with STATICCHECK_FATAL=$(STATICCHECK_FATAL))"; \
		fi; \
	else \
		echo "note: staticcheck $(STATICCHECK_VERSION) could not be installed; skipped"; \
	fi

build: ## Build the server binary into bin/accute
	go build -o bin/accute .

run: ## Run the app; with no DATABASE_URL, a private PostgreSQL under .data/ (migrated, demo data seeded)
	@if [ -z "$${DATABASE_URL:-}" ]; then bash scripts/deps.sh postgres; fi
	@$(MAKE) --no-print-directory build
	./bin/accute serve

test: ## Run every test (race detector, real PostgreSQL, headless Chromium)
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then bash scripts/deps.sh chromium ocr; else bash scripts/deps.sh postgres chromium ocr; fi
	bash scripts/test.sh test

fuzz: ## Run each Fuzz* target for FUZZTIME (30s)
	@if [ -z "$${TEST_DATABASE_URL:-}" ]; then bash scripts/deps.sh postgres; fi
	bash scripts/test.sh fuzz $(FUZZTIME)

bench: ## Load-test the clients page, the API clients list (PAT), API sign-in and /healthz (cmd/loadtest); see BENCHMARKS.md
	@if [ -z "$${TEST_DATABASE_URL:-}" ]; then bash scripts/deps.sh postgres; fi
	@bash scripts/deps.sh wrk
	bash scripts/test.sh run go run ./cmd/loadtest $(BENCH_ARGS)
	@# Server memory while a 200 MB file is uploaded and downloaded (documents).
	bash scripts/test.sh run go run ./cmd/uploadbench
	@# Full-text search over 10,000 parsed documents (p99 under 50 ms).
	bash scripts/test.sh run go run ./cmd/searchbench
	@# Agent runs in real time: 10,000 SSE streams on one instance (delivery p99 under 250 ms,
	@# RSS under 1 GB), and what the app adds between a provider's chunk and the client (p50 under 5 ms).
	bash scripts/test.sh run go run ./cmd/ssebench

clean: ## Remove build output (bin/); keeps .data/
	rm -rf bin
