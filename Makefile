# Raksa: `make run` serves the site, `make test` checks everything. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := run
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
RAKSA_TEST_PG ?= postgres://postgres@127.0.0.1:5432
# Test databases are named after this (test_<name>_gw0…): separate checkouts can test at once.
RAKSA_TEST_DB ?= raksa
PYTEST_WORKERS ?= 2

.PHONY: run test setup lint typecheck test-sqlite test-postgres messages bench bench-small chaos load clean security

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Raksa needs Python 3.12 or newer (see .python-version); found " + sys.version)'
	$(PYTHON) -m venv $(VENV)

# Installing again only when the pinned requirements change keeps a second `make run` fast.
$(VENV)/.installed: $(BIN)/python requirements/base.txt requirements/dev.txt pyproject.toml
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.txt -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed messages

messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install GNU gettext (Debian: apt-get install gettext)"; exit 1; }
	@$(BIN)/raksa compilemessages --locale th --verbosity 0 --ignore .venv --ignore var

run: setup
	$(BIN)/raksa migrate --noinput --verbosity 1
	$(BIN)/raksa migrate --database keystore --noinput --verbosity 1
	$(BIN)/raksa demo --once
	@echo "Serving Raksa at http://127.0.0.1:$(PORT)/ (with its background worker, the audit sequencer, the access-log ingester and the daily retention run); Ctrl-C stops all."
	@trap 'kill 0' EXIT; \
	  $(BIN)/raksa db_worker --queue-name default --interval 1 --no-reload & \
	  $(BIN)/raksa audit chain --follow & \
	  $(BIN)/raksa accesslog ingest --follow & \
	  $(BIN)/raksa retention run --follow & \
	  $(BIN)/raksa runserver --noreload 127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy raksa bench

# Test tools only (axe-core for the accessibility tests, the HTTP Observatory scanner, from package-lock.json): `make run` never needs them.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (Debian: apt-get install npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	@# The Observatory scanner reads the HSTS preload list its install script would download: none here.
	echo '{}' > node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json
	touch $@

test-sqlite: setup node_modules/.installed
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: setup node_modules/.installed
	@if $(BIN)/python -m raksa.testing.pgcheck "$(RAKSA_TEST_PG)"; then \
	  DATABASE_URL="$(RAKSA_TEST_PG)/$(RAKSA_TEST_DB)" RAKSA_KEYSTORE_URL="$(RAKSA_TEST_PG)/$(RAKSA_TEST_DB)_keys" \
	    $(BIN)/pytest -n $(PYTEST_WORKERS) -q; \
	elif [ "$$CI" = "true" ]; then \
	  echo "!!! PostgreSQL at $(RAKSA_TEST_PG) cannot be reached: under CI=true that is a failure." >&2; exit 1; \
	else \
	  echo ""; echo "!!! PostgreSQL at $(RAKSA_TEST_PG) cannot be reached: the PostgreSQL half of the suite DID NOT RUN." >&2; echo ""; \
	fi

test: lint typecheck test-sqlite test-postgres

# The security suite (docs/security.md): the access sweep, headers, injection and canary tests, bandit,
# and Django's deployment check under production settings with freshly generated keys.
security: setup node_modules/.installed
	RAKSA_SECURITY_SCAN=1 $(BIN)/pytest -n $(PYTEST_WORKERS) -q raksa/security
	$(BIN)/bandit -c pyproject.toml -q -r raksa
	env $$($(BIN)/raksa keys generate) RAKSA_ENV=production ALLOWED_HOSTS=raksa.example RAKSA_SMTP_HOST=smtp.example \
	  $(BIN)/raksa check --deploy --fail-level WARNING

# Benchmarks (docs/PERFORMANCE.md): `make bench` measures at full scale (it builds the bench data set on
# PostgreSQL the first time, then reuses it) and prints the table; `make bench ARGS=--small` or
# `make bench-small` is the 1% smoke run CI makes. ARGS also names benchmarks: `make bench ARGS="load"`.
bench: setup
	$(BIN)/raksa bench $(ARGS)

bench-small: setup
	$(BIN)/raksa bench --small $(ARGS)

# Crash and recovery (issue 13): a PostgreSQL cluster of its own killed and restarted under writes,
# workers killed, the spool's disk filled, two servers on one database. Needs PostgreSQL's server
# tools (RAKSA_PG_BIN, default /usr/lib/postgresql/15/bin) and, for the tmpfs, root; takes minutes.
chaos: setup
	$(BIN)/pytest -q -s -m chaos raksa/chaos

# locust through a PostgreSQL restart on a cluster of its own (raksa/chaos/load.py): 50 citizens for
# 10 minutes steady, then 10 more while PostgreSQL restarts once. ARGS=--quick: 10 citizens, 1 minute.
load: setup
	$(BIN)/python -m raksa.chaos.load $(ARGS)

clean:
	rm -rf $(VENV) var/static node_modules
