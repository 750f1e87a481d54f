# Moat: `make run` serves the app with demo data, `make test` runs every test.
# Both install what a fresh machine lacks first. `make help` lists every target.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

BIN        := bin/moat
GO_SOURCES := $(shell find . -name '*.go' -not -path './node_modules/*' -not -name '*_test.go') go.mod go.sum $(wildcard migrations/*.sql)
TEMPL      := $(shell find views -name '*.templ')
CHROMIUM   ?= /usr/bin/chromium
E2E_PORT   ?= 3100
export APP_ENV ?= development

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# --- what a fresh machine lacks -------------------------------------------------------------

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# $(call need,TEST,PACKAGE,HINT): when the shell test TEST fails, install Debian's PACKAGE as
# root, or stop with HINT.
define need
	@if ! ( $(1) ); then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's $(2)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "$(3)" >&2; exit 1; \
	  fi; \
	fi
endef

.PHONY: postgres
postgres: # PostgreSQL's server programs, for the private cluster (unless DATABASE_URL is set)
	$(call need,[ -n "$${DATABASE_URL:-}" ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null,postgresql,PostgreSQL server programs (initdb and pg_ctl) are missing: install them (Debian: sudo apt-get install postgresql) or set DATABASE_URL.)

.PHONY: chromium
chromium: # Debian's Chromium for Playwright (its own browser download cannot work here)
	$(call need,[ -x "$(CHROMIUM)" ],chromium,Chromium is missing at $(CHROMIUM): install it (Debian: sudo apt-get install chromium) or set CHROMIUM.)

CITUS_SH ?= $(firstword $(wildcard ../shared/citus/citus.sh /work/shared/citus/citus.sh))
.PHONY: citus
citus: postgres # Citus 13.2.2 for PostgreSQL 15, installed from ../shared/citus when missing
	@if [ ! -f /usr/lib/postgresql/15/lib/citus.so ]; then \
	  if [ -z "$(CITUS_SH)" ] || [ "$$(id -u)" != 0 ]; then \
	    echo "Citus is missing: run ../shared/citus/citus.sh install as root (or set CITUS_SH to that script)." >&2; exit 1; \
	  fi; \
	  "$(CITUS_SH)" install; \
	fi

.PHONY: haproxy
haproxy: # Debian's haproxy, in front of two app servers (make run-cluster, and the Go test of it)
	$(call need,command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ],haproxy,haproxy is missing: install it (Debian: sudo apt-get install haproxy).)

# --- generated code and assets --------------------------------------------------------------

.PHONY: generate
generate: node_modules/.installed ## regenerate templ code, CSS, the copied htmx and Swagger UI
	go tool templ generate -path views
	npx tailwindcss -c tailwind.config.js -i views/styles.css -o static/app.css --minify 2>/dev/null
	cp node_modules/htmx.org/dist/htmx.min.js static/htmx.min.js
	mkdir -p static/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css node_modules/swagger-ui-dist/LICENSE static/swagger-ui/

$(BIN): $(GO_SOURCES) $(TEMPL) static/app.css
	go build -o $@ .

.PHONY: build
build: generate $(BIN) ## build bin/moat

# --- running --------------------------------------------------------------------------------

.PHONY: run
run: postgres build ## serve http://127.0.0.1:3000 with the demo data (private cluster unless DATABASE_URL is set)
	$(BIN) migrate
	$(BIN) demo
	$(BIN) serve

.PHONY: run-cluster
run-cluster: postgres haproxy build ## serve http://127.0.0.1:3000 through haproxy from two app servers (3001, 3002), with the demo data
	$(BIN) migrate
	$(BIN) demo
	trap 'kill $$(jobs -p) 2>/dev/null' EXIT; \
	for n in 1 2; do ADDR=127.0.0.1:300$$n METRICS_ADDR=127.0.0.1:919$$n TRUSTED_PROXIES=127.0.0.1 $(BIN) serve & done; \
	MOAT_FRONT=127.0.0.1:3000 MOAT_APP1=127.0.0.1:3001 MOAT_APP2=127.0.0.1:3002 PATH="$$PATH:/usr/sbin" haproxy -db -f deploy/haproxy.cfg

.PHONY: db-start db-stop db-reset
db-start: postgres $(BIN) ## start the private PostgreSQL cluster
	$(BIN) db start
db-stop: $(BIN) ## stop the private PostgreSQL cluster
	$(BIN) db stop
db-reset: postgres $(BIN) ## drop the private cluster with all its data and create it anew
	$(BIN) db reset

# --- checks ---------------------------------------------------------------------------------

.PHONY: test
test: postgres chromium build check-generated lint api-spec go-test fuzz e2e ## every check: generated code, vet, the API's document, Go tests, fuzzing, Playwright

# The isolation-critical suites make test-citus runs on Citus: the route-wide attacks, hostile
# values, the pools and concurrency, two app servers (behind haproxy) over the one database, a
# database taken from one node to the cluster, and the posture check (every test of
# app/posture and app/tenant).
CITUS_TESTS := ^(TestForeignIDsAnswerLikeUnknownOnes|TestListRoutesNeverShowAnotherTenantsValues|TestEveryRouteIgnoresTenantNamedByTheClient|TestAPIForeignIDsAnswerLikeUnknownOnes|TestAPIIgnoresTenantNamedByTheClient|TestAPIScopesBoundEveryRoute|TestEqualWorkOnBothSidesOfEverySecret|TestEveryRequestFollowsTheDatabase|TestCustomersIsolation|TestRawSQLMeetsRowLevelSecurity|TestAuditTrailIsAppendOnlyForTheApp|TestPooledConnectionsNeverCarryTenant|TestFinalizeNumbersHaveNoGapsUnderConcurrency|TestTagNameRace|TestSessionCheckKeepsToItsTenant|TestDefinersRefuseAnotherTenant|TestEveryFieldRefusesHostileValues|TestAPIFieldsRefuseHostileValues|TestTwoAppServersShareState|TestBehindHAProxy|TestOneNodeTakenToManyKeepsWorking)$$
CITUS_DIR   := $(CURDIR)/.citus
# Every test database on Citus runs a maintenance worker on each node: 64 rather than 8.

# citus_up starts the Citus cluster in .citus (its coordinator's port in $$port, chosen free the
# first time) and stops it when the recipe's shell exits.
define citus_up
port=$$(cat $(CITUS_DIR)/port 2>/dev/null || true); \
	  if [ -z "$$port" ]; then port=55501; \
	    taken() { for q in $$1 $$(($$1 + 1)) $$(($$1 + 2)); do (: </dev/tcp/127.0.0.1/$$q) 2>/dev/null && return 0; done; return 1; }; \
	    while taken $$port; do port=$$((port + 10)); done; \
	    mkdir -p $(CITUS_DIR); echo $$port > $(CITUS_DIR)/port; fi; \
	  export CITUS_PORT=$$port; \
	  trap '"$(CITUS_SH)" stop $(CITUS_DIR)' EXIT; \
	  "$(CITUS_SH)" start $(CITUS_DIR); \
	  psql="runuser -u postgres -- psql -X -h 127.0.0.1 -d postgres -qAt"; \
	  if [ "$$($$psql -p $$port -c 'SHOW max_worker_processes')" -lt 64 ]; then \
	    for p in $$port $$((port + 1)) $$((port + 2)); do $$psql -p $$p -c 'ALTER SYSTEM SET max_worker_processes = 64'; done; \
	    "$(CITUS_SH)" stop $(CITUS_DIR); "$(CITUS_SH)" start $(CITUS_DIR); \
	  fi
endef

.PHONY: test-citus
test-citus: citus chromium haproxy build ## the isolation-critical suites on a 3-node Citus cluster (in .citus, stopped afterwards)
	@$(citus_up); \
	  export MOAT_CITUS_PORT=$$port; \
	  go test -count=1 -run '$(CITUS_TESTS)' ./app/server ./app/store; \
	  go test -count=1 ./app/posture ./app/tenant; \
	  MOAT_DB_NAME=moat_e2e $(BIN) db fresh; \
	  MOAT_DB_NAME=moat_e2e $(BIN) migrate; \
	  MOAT_DB_NAME=moat_e2e $(BIN) check; \
	  MOAT_DB_NAME=moat_e2e $(BIN) demo >/dev/null; \
	  spread=$$(runuser -u postgres -- psql -X -h 127.0.0.1 -p $$port -d moat_e2e -qAt < e2e/citus-demo-workers.sql); \
	  if [ -z "$$spread" ]; then echo "the demo tenants share a worker" >&2; exit 1; fi; \
	  echo "$$spread"; \
	  E2E_PORT=$(E2E_PORT) CHROMIUM=$(CHROMIUM) npx playwright test -c e2e/playwright.config.ts isolation.spec.ts --project desktop --no-deps

.PHONY: check-generated
check-generated: # committed generated files must match their sources
	@if git rev-parse --git-dir >/dev/null 2>&1 && [ -n "$$(git status --porcelain -- views static)" ]; then \
	  echo "Generated files differ from the committed ones (run make generate and commit):" >&2; \
	  git status --porcelain -- views static >&2; git --no-pager diff --stat -- views static >&2; exit 1; \
	fi

API_SPEC := app/api/openapi.json

.PHONY: api-spec
api-spec: $(BIN) ## the committed OpenAPI document: no breaking change unless the API's major version changed, and current
	@current=$$(mktemp); trap 'rm -f $$current' EXIT; \
	  $(BIN) openapi > $$current; \
	  if ! cmp -s $(API_SPEC) $$current; then \
	    major() { grep -m1 -o '"version": *"[0-9]*' $$1 | grep -o '[0-9]*$$'; }; \
	    if [ "$$(major $(API_SPEC))" = "$$(major $$current)" ] && ! go tool oasdiff breaking $(API_SPEC) $$current --fail-on ERR; then \
	      echo "The API changed in a way that breaks its clients (above): keep the old behaviour, or release a new major version (api.Version and api.Prefix)." >&2; exit 1; \
	    fi; \
	    echo "$(API_SPEC) is not the API's document: run make openapi and commit it." >&2; exit 1; \
	  fi

.PHONY: openapi
openapi: $(BIN) ## write the API's OpenAPI document to app/api/openapi.json, for committing
	$(BIN) openapi > $(API_SPEC)

.PHONY: lint
lint: ## gofmt and go vet
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$bad" ]; then echo "gofmt would change: $$bad" >&2; exit 1; fi
	go vet ./...

.PHONY: go-test
go-test: postgres haproxy ## Go tests against real PostgreSQL (the private cluster starts itself)
	go test -count=1 ./...

FUZZTIME ?= 4s
# Go before 1.27 can fail a timed fuzz run with "context deadline exceeded" as its time runs out
# (go.dev/issue/75804), and a count cannot bound the minimizing of slow targets: fuzz with the
# Go that has the fix, fetched once through the module proxy (76 MB). The code stays on go.mod's Go.
FUZZ_GO  ?= go1.27.3
FUZZ_TARGETS := FuzzRecordID FuzzSearch FuzzCustomerForm FuzzInvoiceForm FuzzProduct FuzzBulk FuzzTags FuzzNotes FuzzTeam FuzzAccount

.PHONY: soak
soak: postgres ## a 10-minute soak at 64 connections: no errors, flat memory, no leaked goroutines (make test runs 8 s of it)
	MOAT_SOAK=$${MOAT_SOAK:-10m} go test -count=1 -run '^TestSoak$$' -timeout 30m -v ./app/server

.PHONY: fuzz
fuzz: postgres ## a short fuzz run of every tenant-route fuzz target (FUZZTIME each; the corpus is in testdata)
	@for target in $(FUZZ_TARGETS); do \
	  echo "GOTOOLCHAIN=$(FUZZ_GO) go test -run '^$$' -fuzz '^$$target\$$' -fuzztime $(FUZZTIME) ./app/server"; \
	  GOTOOLCHAIN=$(FUZZ_GO) go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./app/server || exit 1; \
	done

.PHONY: e2e
e2e: postgres chromium build ## the Playwright suite in headless Chromium
	MOAT_DB_NAME=moat_e2e $(BIN) db fresh
	MOAT_DB_NAME=moat_e2e $(BIN) migrate
	MOAT_DB_NAME=moat_e2e $(BIN) check
	E2E_PORT=$(E2E_PORT) CHROMIUM=$(CHROMIUM) npx playwright test -c e2e/playwright.config.ts

TENANTS   ?= 1000
CUSTOMERS ?= 1000
WHALE     ?= 100000
INVOICES  ?= 10
PRODUCTS  ?= 1000
# Totals of the databases list latency is compared across (the first is the baseline). 10
# million customers take 31 GB and 25 minutes to load, once; without the disk for them the
# bench says so and skips that size.
GROWTH    ?= 100000,10000000

.PHONY: seed
seed: postgres build ## synthetic tenants for benchmarks: make seed TENANTS=1000 CUSTOMERS=1000 WHALE=100000 INVOICES=10 PRODUCTS=1000
	$(BIN) migrate
	$(BIN) seed $(TENANTS) $(CUSTOMERS) $(WHALE) $(INVOICES) $(PRODUCTS)

.PHONY: wrk
wrk: # Debian's wrk, the load generator
	$(call need,command -v wrk >/dev/null,wrk,wrk is missing: install it (Debian: sudo apt-get install wrk).)

.PHONY: bench
bench: postgres citus build wrk ## benchmarks: Go benchmarks, then Moat under wrk against pgbench's limit; prints figures, asserts nothing about speed
	go test -run '^$$' -bench . -benchmem ./...
	go test -run '^$$' -bench '^BenchmarkSecretTimings$$' -benchtime 300x ./app/server
	MOAT_DB_NAME=moat_bench go run ./bench -tenants $(TENANTS) -customers $(CUSTOMERS) -whale $(WHALE) -invoices $(INVOICES) -products $(PRODUCTS) -growth $(GROWTH)
	@$(citus_up); go run ./bench -citus $$port -tenants 20 -customers 1000 -invoices 10 -products 100 -import 5000
