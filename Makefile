# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev

.PHONY: run test install dev bench bench-instructions bench-http bench-sync bench-replay bench-console bench-webhooks lint typecheck regress docs clean chromium screenshots

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
	@echo ""
	@echo "  API:     http://$(if $(HOST),$(HOST),$${ADJUDICATOR_HOST:-127.0.0.1}):$(if $(PORT),$(PORT),$${ADJUDICATOR_PORT:-8000})/v1/"
	@echo "  Console: http://$(if $(HOST),$(HOST),$${ADJUDICATOR_HOST:-127.0.0.1}):$(if $(PORT),$(PORT),$${ADJUDICATOR_PORT:-8000})/console/"
	@echo "  First console user (in another terminal):"
	@echo "    $(BIN)/adjudicator users create --name YOUR_NAME --role admin"
	@echo ""
	$(BIN)/adjudicator serve $(if $(PORT),--port $(PORT)) $(if $(HOST),--host $(HOST))

# docs/contract.md from the schemas, and docs/architecture.md's package graph from the imports
# (a test fails when either committed file is stale)
docs: $(DEVSTAMP)
	$(BIN)/python -m api.contractdoc > docs/contract.md
	$(BIN)/python tools/architecture.py

regress: $(STAMP)
	$(BIN)/adjudicator regress

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium package for the browser tests" >&2; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else \
	    echo "The browser tests need Debian's chromium package ($(CHROMIUM)):" \
	      "run 'sudo apt-get install chromium', then 'make test' again" >&2; \
	    exit 1; \
	  fi; \
	fi

# ruff, and the architecture's import contracts (pyproject.toml [tool.importlinter])
lint: $(DEVSTAMP)
	$(BIN)/ruff check adjudicator api tests bench tools
	$(BIN)/ruff format --check adjudicator api tests bench tools
	$(BIN)/lint-imports

typecheck: $(DEVSTAMP)
	$(BIN)/mypy

test: $(DEVSTAMP) chromium lint typecheck
	$(BIN)/pytest -n 2 -q

# docs/screenshots/*.png from the browser tests (make test writes them to a temporary folder)
screenshots: $(DEVSTAMP) chromium
	ADJUDICATOR_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider tests/browser

bench: $(STAMP)
	$(BIN)/python -m bench.core

# instructions per decision, counted under Valgrind (needs the valgrind package)
bench-instructions: $(STAMP)
	$(BIN)/python -m bench.instructions

bench-http: $(DEVSTAMP)
	$(BIN)/python -m bench.http

bench-sync: $(STAMP)
	$(BIN)/python -m bench.sync

bench-replay: $(STAMP)
	$(BIN)/python -m bench.replay

bench-console: $(DEVSTAMP)
	$(BIN)/python -m bench.console

bench-webhooks: $(DEVSTAMP)
	$(BIN)/python -m bench.webhooks

clean:
	rm -rf $(VENV) *.db .pytest_cache .mypy_cache .hypothesis
