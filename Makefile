# The two commands in the README are the contract: `make run` and `make test`
# work on a fresh clone with nothing done by hand.
VENV ?= .venv
PY := $(VENV)/bin/python
export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export ANONYMIZED_TELEMETRY := False
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test setup setup-dev setup-local lint typecheck index bench eval clean

run: setup index
	$(VENV)/bin/panelist ui

test: setup-dev lint typecheck
	$(PY) -m pytest

setup:
	@scripts/setup.sh run

setup-dev:
	@scripts/setup.sh dev

setup-local:
	@scripts/setup.sh local

# Index the shipped corpus on first start (a no-op when it is already indexed).
index:
	@$(VENV)/bin/panelist kb build

lint: setup-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup-dev
	$(VENV)/bin/mypy

bench: setup-dev
	$(PY) -m evals.bench_knowledge

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts
