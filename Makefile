# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install dev bench bench-http lint typecheck regress clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)
dev: $(DEVSTAMP)

run: $(STAMP)
	$(BIN)/adjudicator db upgrade
	$(BIN)/adjudicator serve

regress: $(STAMP)
	for dir in fixtures/*/; do $(BIN)/adjudicator regress $$dir --ruleset $$(basename $$dir) || exit 1; done

test: $(DEVSTAMP)
	$(BIN)/ruff check adjudicator api tests
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench.core

bench-http: $(DEVSTAMP)
	$(BIN)/python -m bench.http

clean:
	rm -rf $(VENV) *.db .pytest_cache .mypy_cache .hypothesis
