# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install dev bench bench-http bench-sync bench-replay lint typecheck regress docs clean

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

# make run PORT=8080 HOST=0.0.0.0 (defaults: ADJUDICATOR_PORT / ADJUDICATOR_HOST, else 8000, 127.0.0.1)
run: $(STAMP)
	$(BIN)/adjudicator db upgrade
	$(BIN)/adjudicator serve $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

# docs/contract.md from the schemas (a test fails when the committed file is stale)
docs: $(STAMP)
	$(BIN)/python -m api.contractdoc > docs/contract.md

regress: $(STAMP)
	$(BIN)/adjudicator regress

test: $(DEVSTAMP)
	$(BIN)/ruff check adjudicator api tests
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/python -m bench.core

bench-http: $(DEVSTAMP)
	$(BIN)/python -m bench.http

bench-sync: $(STAMP)
	$(BIN)/python -m bench.sync
bench-replay: $(STAMP)
	$(BIN)/python -m bench.replay

clean:
	rm -rf $(VENV) *.db .pytest_cache .mypy_cache .hypothesis
