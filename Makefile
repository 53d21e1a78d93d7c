# Handover — the two commands a newcomer needs are `make run` and `make test`.
GO        ?= go
BENCH_ROWS ?= 1000000
# BENCH_PLAN_ROWS: recipients of the campaign-plan benchmark (rows + tasks)
BENCH_PLAN_ROWS ?= 1000000
# tickets in the database for the queue figures (the issue's: 1,000,000)
BENCH_TICKETS ?= 1000000
# seconds of sending per case of the rates benchmark (configured against
# achieved, 20/s, 200/s and 2,000/s, email/SMS/WeChat, one and three workers)
BENCH_RATE_SECONDS ?= 8
# recipients of the scale benchmark (2 api + 1, 2 and 3 worker processes,
# half email and half SMS, PostgreSQL and Redis of its own)
BENCH_SCALE_ROWS ?= 200000
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: run demo test test-short bench fuzz lint lint-openapi build clean

## run: Handover on its embedded defaults (SQLite + in-process Redis) at http://127.0.0.1:8080
run:
	$(GO) run ./cmd/handover serve

## demo: fill the embedded database with made-up customers, a transfer and a draft campaign (then: make run)
demo:
	$(GO) run ./cmd/handover demo

## test: the whole suite (SQLite always; PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set)
test:
	$(GO) test -race -count=1 -timeout 60m ./...

## test-short: the quick loop, skipping the slow tests
test-short:
	$(GO) test -short -count=1 ./...

## bench: the figures the issues name, printed: import rows/s (SQLite, and
## PostgreSQL when TEST_DATABASE_URL is set), start-up and idle RSS, channel
## throughput (email msgs/s, WeChat callback msgs/s and p99), render speed,
## portal link open → page and consent submit (req/s, p99), a 100k-recipient
## email campaign (in-process, and through the built binary's API with the
## whole sender's CPU: serve, or api+worker with their PostgreSQL backends
## and Redis; pprof's top functions and Redis/PostgreSQL statements per
## message), a BENCH_PLAN_ROWS campaign plan, buyer export and
## crypto-shred customers/s (BENCH_LIFECYCLE_ROWS, default 100k), inbound
## messages → tickets per second, the ticket queue's first page p95 with
## BENCH_TICKET_ROWS (default 1,000,000) tickets, and each send rate
## configured against achieved (BenchmarkRates: 20/s, 200/s and 2,000/s on
## email, SMS and WeChat, one and three workers; BENCH_RATE_SECONDS each),
## and BenchmarkScale: BENCH_SCALE_ROWS recipients by 2 api and 1, 2 and 3
## worker processes, msgs/s and CPU per process kind (docs/operations.md)
bench:
	BENCH_ROWS=$(BENCH_ROWS) BENCH_SCALE_ROWS=$(BENCH_SCALE_ROWS) BENCH_CAMPAIGN_ROWS=100000 BENCH_DRILL_ROWS=100000 BENCH_PLAN_ROWS=$(BENCH_PLAN_ROWS) BENCH_TICKETS=$(BENCH_TICKETS) BENCH_RATE_SECONDS=$(BENCH_RATE_SECONDS) $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./customers/importer/ ./cmd/handover/ ./campaigns/ ./web/ ./lifecycle/
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./pii/ ./queue/ ./templates/ ./channels/...
	BENCH_TICKET_ROWS=$(BENCH_TICKETS) $(GO) test -run '^$$' -bench . -benchtime 1000x -timeout 30m ./feedback/

## fuzz: each fuzz target for FUZZTIME (default 20s)
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## lint: gofmt, go vet, staticcheck, and lint-openapi when node is installed
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	@if command -v node >/dev/null 2>&1; then $(MAKE) --no-print-directory lint-openapi; else echo "lint: node not installed, web/api/openapi.yaml not linted (make lint-openapi)"; fi

## lint-openapi: web/api/openapi.yaml through Redocly's recommended rules (the
## CLI pinned in tools/openapi/package-lock.json; needs node >= 20.19 and npm)
REDOCLY := tools/openapi/node_modules/.bin/redocly
lint-openapi: $(REDOCLY)
	$(REDOCLY) lint --config tools/openapi/redocly.yaml web/api/openapi.yaml

$(REDOCLY): tools/openapi/package.json tools/openapi/package-lock.json
	cd tools/openapi && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## build: a static binary in bin/
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/handover ./cmd/handover

clean:
	rm -rf bin
