# Waypost developer tasks. `make serve` runs the seed example; `make test` runs
# everything (Python + the official JS SDKs under node).

PYTHON ?= python3
VENV := .venv
VENV_STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
JS_DIR := tests/js
JS_STAMP := $(JS_DIR)/node_modules/.installed
PYTEST_ARGS ?=

.PHONY: venv serve js lint test bench clean

.venv: $(VENV_STAMP)
venv: $(VENV_STAMP)

$(VENV_STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -e '.[test]'
	touch $@

serve: $(VENV_STAMP)
	$(VENV)/bin/waypost serve --config $${WAYPOST_CONFIG:-examples/seed/langgraph.json} --host $${WAYPOST_HOST:-127.0.0.1} --port $${WAYPOST_PORT:-8123}

tests/js/node_modules: $(JS_STAMP)
js: $(JS_STAMP)

$(JS_STAMP): $(JS_DIR)/package.json $(wildcard $(JS_DIR)/package-lock.json)
	if [ -f $(JS_DIR)/package-lock.json ]; then npm ci --prefix $(JS_DIR) --no-audit --no-fund; else npm install --prefix $(JS_DIR) --no-audit --no-fund; fi
	touch $@

lint: $(VENV_STAMP)
	$(VENV)/bin/ruff check src
	$(VENV)/bin/ruff format --check src
	$(VENV)/bin/mypy

test: $(VENV_STAMP) $(JS_STAMP) lint
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The bench's own client deps (httpx, matplotlib), and the PostgreSQL and Redis clients its scaled
# section makes and drops schemas, databases and keys with; bench/run.py installs `langgraph dev`
# into bench/.venv-peer and Aegra into bench/.venv-aegra itself.
# BENCH_ARGS e.g. --quick, --no-peer, --profile, --no-scaled, --no-aegra, --aegra-python PATH.
$(BENCH_STAMP): $(VENV_STAMP) Makefile
	$(VENV)/bin/python -m pip install -e '.[bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(JS_DIR)/node_modules .pytest_cache .ci/junit.xml build src/*.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
