# Picus developer commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The TypeScript client; `npm ci` installs its pinned tools (tsc, openapi-typescript).
TS_CLIENT := clients/typescript
TS_TSC    := $(TS_CLIENT)/node_modules/.bin/tsc

.PHONY: run test test-pgbouncer scale-test system-packages lint lint-python lint-spec lint-deploy lock \
	client fmt clean

$(STAMP): pyproject.toml clients/python/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e ./clients/python
	touch $(STAMP)

## run: serve Picus on http://127.0.0.1:8000 (embedded SQLite unless DATABASE_URL is set)
run: $(STAMP)
	$(BIN)/picus serve

## test: lint, then the whole suite against a throwaway PostgreSQL and SQLite (the
##   three-replica test and the Kubernetes manifests' invariants included), then the API
##   suite once more through PgBouncer (test-pgbouncer)
test: system-packages lint $(TS_TSC)
	$(BIN)/pytest
	$(MAKE) --no-print-directory test-pgbouncer

## test-fast: the in-process tests only (no servers, browsers, Nginx or soak; about 40 s),
##   for the edit-test loop; `make test` is what counts
.PHONY: test-fast
test-fast: $(STAMP)
	$(BIN)/pytest -m "not live" -q

## test-pgbouncer: tests/api, tests/features and tests/storage with every connection the app
##   opens going through a real PgBouncer 1.18 in transaction pooling, run on the shipped
##   deploy/pgbouncer/pgbouncer.ini (about a minute; part of `make test`)
test-pgbouncer: system-packages $(STAMP)
	PICUS_TEST_POSTGRES=pgbouncer $(BIN)/pytest tests/api tests/features tests/storage

## scale-test: three `picus serve` behind the Nginx template (an upstream of three) and
##   PgBouncer under mixed load; one is killed with SIGKILL and restarted; every
##   acknowledged write must be there (under a minute; also part of `make test`)
scale-test: system-packages $(STAMP)
	$(BIN)/pytest tests/deploy/test_scale_out.py

## system-packages: the Debian packages the tests use (installed when run as root)
system-packages:
	tools/system-packages

## lint: every linter; each area adds its own lint-* target as a prerequisite here
lint: lint-python lint-spec lint-deploy lint-typescript lint-docs

## lint-python: ruff (lint + format check) and mypy
lint-python: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## client: regenerate the typed SDKs from openapi/picus.yaml: Python (clients/python) and
##   TypeScript (clients/typescript/src/generated)
client: $(STAMP) $(TS_TSC)
	$(GENERATE_CLIENT) --overwrite --output-path clients/python
	cd $(TS_CLIENT) && npm run --silent generate

# openapi-python-client (pinned in pyproject) runs the venv's ruff as a post hook.
GENERATE_CLIENT = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/openapi-python-client generate \
	--path openapi/picus.yaml --meta uv --config clients/python/openapi-python-client.yaml \
	--fail-on-warning
SPECTRAL := tools/spectral/node_modules/.bin/spectral
# Files in clients/python that are not generated: its config, and caches left by tools.
CLIENT_NOT_GENERATED := -x openapi-python-client.yaml -x __pycache__ -x .ruff_cache \
	-x .mypy_cache -x .pytest_cache -x '*.egg-info'

$(SPECTRAL): tools/spectral/package-lock.json
	cd tools/spectral && npm ci --ignore-scripts --no-audit --no-fund
	touch $(SPECTRAL)

## lint-spec: the spec is valid OpenAPI 3.0, passes Spectral, and clients/python matches it
lint-spec: $(STAMP) $(SPECTRAL)
	$(BIN)/openapi-spec-validator openapi/picus.yaml
	$(SPECTRAL) lint --ruleset tools/spectral/.spectral.yaml --fail-severity=warn openapi/picus.yaml
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(GENERATE_CLIENT) --output-path "$$tmp/client" >/dev/null && \
	{ diff -rq $(CLIENT_NOT_GENERATED) clients/python "$$tmp/client" || { \
		echo "clients/python is out of date with openapi/picus.yaml: run 'make client'" >&2; \
		exit 1; }; } && \
	echo "clients/python is up to date with openapi/picus.yaml"

## lint-typescript: clients/typescript's generated types match openapi/picus.yaml (the
##   generator's own --check), and the package type-checks under strict, for Node and browsers
.PHONY: lint-typescript
$(TS_TSC): $(TS_CLIENT)/package-lock.json
	cd $(TS_CLIENT) && npm ci --ignore-scripts --no-audit --no-fund
	touch $(TS_TSC)

lint-typescript: $(TS_TSC)
	@cd $(TS_CLIENT) && { npm run --silent generate -- --check >/dev/null || { \
		echo "clients/typescript is out of date with openapi/picus.yaml: run 'make client'" >&2; \
		exit 1; }; } && echo "clients/typescript is up to date with openapi/picus.yaml"
	cd $(TS_CLIENT) && npm run --silent typecheck

## lint-deploy: Dockerfiles (hadolint), workflows (actionlint), the Compose files (schema +
##   Compose's own parser), deploy/kubernetes/ (the Kubernetes schemas, offline)
KUBERNETES_VERSION ?= 1.31
KUBERNETES_MANIFESTS = $(filter-out deploy/kubernetes/kustomization.yaml,\
	$(wildcard deploy/kubernetes/*.yaml))
lint-deploy: $(STAMP)
	$(BIN)/hadolint Dockerfile deploy/pgbouncer/Dockerfile
	$(BIN)/actionlint -no-color
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml \
		docker-compose.tls.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(BIN)/docker-compose -f docker-compose.yml config --quiet
	$(BIN)/docker-compose -f docker-compose.yml -f docker-compose.tls.yml config --quiet
	$(BIN)/kubernetes-validate --kubernetes-version $(KUBERNETES_VERSION) --strict --quiet \
		$(KUBERNETES_MANIFESTS)

## lint-docs: every relative link and #anchor in the Markdown resolves (lychee, offline:
##   web links are not checked; CI has no network)
.PHONY: lint-docs
MARKDOWN = $(shell git ls-files --cached --others --exclude-standard '*.md')
lint-docs: $(STAMP)
	$(BIN)/lychee --offline --include-fragments --no-progress $(MARKDOWN)

## lock: re-pin requirements.txt, the image's runtime dependencies (hashed), from pyproject.toml
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --quiet --python-version 3.13 \
		--python-platform x86_64-manylinux_2_28 --only-binary :all: --generate-hashes \
		--custom-compile-command "make lock" --output-file requirements.txt

## soak: about 60 s of load through Nginx while PostgreSQL restarts and stops, a worker is
##   killed, Nginx reloads and 500 connections arrive at once; fails if anything acknowledged
##   is lost, on any 500, hang or malformed answer, or on any error outside a fault window;
##   SOAK_ARGS=--pgbouncer runs the app's queries through PgBouncer, as in the Compose stack
.PHONY: soak fuzz
SOAK_SECONDS ?= 60
SOAK_ARGS ?=
soak: $(STAMP)
	$(BIN)/python -m soak --duration $(SOAK_SECONDS) $(SOAK_ARGS)

## fuzz: schemathesis with FUZZ_EXAMPLES (2,000) examples per operation, negative data too,
##   against `picus serve` on a throwaway PostgreSQL (the short run is in `make test`)
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	$(BIN)/python -m soak.fuzz --max-examples $(FUZZ_EXAMPLES)

## bench: about 7 minutes of load (BENCH_ARGS=--quick: about 2): pgbench's limit, wrk direct
##   and through Nginx, memory while streaming 1,000,000 items; prints the table and writes
##   it to bench/results/ (see docs/performance.md). Not part of `make test`.
.PHONY: bench
BENCH_ARGS ?=
BENCH_APT = $(if $(shell command -v wrk),,wrk) $(if $(shell command -v nginx || \
	test -x /usr/sbin/nginx && echo y),,nginx) $(if $(shell command -v envsubst),,gettext-base)
bench: $(STAMP)
	$(if $(strip $(BENCH_APT)),apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends $(strip $(BENCH_APT)))
	$(BIN)/python -m bench $(BENCH_ARGS)

## fmt: apply ruff's formatting and safe fixes
fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
