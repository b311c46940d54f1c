# `make run` and `make test` do the whole set-up on a fresh machine.
# Every version installed comes from requirements.lock (`make lock` regenerates it).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PIP_TOOLS := pip-tools==7.6.2

.PHONY: run test lint lock emulators bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade 'pip>=23.1'

$(STAMP): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/pip install -q -c $(LOCK) -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The suite mostly waits on emulators and bot processes, so four workers on two cores
# (each with its own PostgreSQL database) finish it in about half the time.
TEST_WORKERS ?= 4

test: lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# Pins the newest versions pyproject.toml allows; pip-tools lives in a throwaway venv.
lock:
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PYTHON) -m venv "$$tmp" && "$$tmp/bin/pip" install -q '$(PIP_TOOLS)' && \
	CUSTOM_COMPILE_COMMAND='make lock' "$$tmp/bin/pip-compile" --quiet --upgrade \
		--extra test --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host --no-emit-options --output-file $(LOCK) pyproject.toml

emulators: $(STAMP)
	$(BIN)/python -m tests.emulators

bench: $(STAMP)
	$(BIN)/python -m bench.checkout

clean:
	rm -rf $(VENV) *.egg-info build .pytest_cache .ruff_cache
