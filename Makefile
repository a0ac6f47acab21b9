# The two commands a newcomer needs: `make demo` and `make test`. Both create the virtualenv from
# requirements/dev.txt and requirements/celery.txt (every version pinned by constraints.txt) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# pytest processes for `make test` (pytest-xdist; whole files per process): the end-to-end runs mostly
# wait on Airflow processes, so two halve the suite's time on a 2-core machine. 0 runs in one process.
TEST_WORKERS ?= 2

# devtools/ (demo, bench, sandboxes) is imported from the checkout; the product is the installed package.
export PYTHONPATH := $(CURDIR)
export GX_ANALYTICS_ENABLED := false

.PHONY: demo bench test lint format venv clean stop-warehouse stack stop-stack stack-status

$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/celery.txt constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.txt -r requirements/celery.txt \
		-c constraints.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(STAMP)

## One demo service period end to end (embedded PostgreSQL unless AIRFLOW_CONN_CCMS_WAREHOUSE is set).
demo: $(STAMP)
	$(BIN)/python -m devtools.demo $(ARGS)

## Statewide benchmark: a seeded statewide period through the real DAG vs the bare floor (docs/performance.md).
## Options via ARGS, e.g. ARGS="--scale 0.01", ARGS="--scaling 1,2,4", ARGS="--periods 26 --reruns 1 --date 2025-11-12" (a year).
bench: $(STAMP)
	$(BIN)/python -m devtools.bench $(ARGS)

.PHONY: test-fast schema

## The whole test suite against a real PostgreSQL (see README: which server it uses), after the lint.
test: $(STAMP)
	bash devtools/ensure-system-packages.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

## Unit and DAG tests only (no `integration` marker: no server, no processes); a few minutes at most.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not integration" $(ARGS)

## ruff (rules and format) and mypy on the package (settings in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Regenerate src/ccms_attendance/sql/schema.sql: every table as the migrations leave it (test server).
schema: $(STAMP)
	$(BIN)/python -m devtools.schema

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## The real Airflow stack in the background (docs/operations.md): PostgreSQL metadata, api-server,
## dag-processor, scheduler, vendor sandboxes with several periods of demo data; state in .stack/.
stack: $(STAMP)
	$(BIN)/python -m devtools.stack start $(ARGS)

## Stop what `make stack` started (only that; its databases stay for the next `make stack`).
stop-stack: $(STAMP)
	$(BIN)/python -m devtools.stack stop $(ARGS)

stack-status: $(STAMP)
	$(BIN)/python -m devtools.stack status $(ARGS)

## Stop the embedded PostgreSQL the demo started (its data stays in .pgdata/).
stop-warehouse: $(STAMP)
	$(BIN)/python -c "import pgserver; pgserver.get_server('.pgdata', cleanup_mode='stop').cleanup()"

clean: stop-stack stop-warehouse
	rm -rf .airflow .run .stack build
