# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.install-stamp
CORPUS ?=
HOST ?= 127.0.0.1
PORT ?= 7860

.PHONY: install run test test-fast lint browser bench eval-dev clean

install: $(STAMP)

# Re-runs only when pyproject.toml changes. torch is pinned (==2.13.0) in pyproject.toml: an
# unpinned torch would pull a multi-GB CUDA build.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "newsbot needs Python >= 3.11"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# `make run CORPUS=folder` ingests that folder; with no CORPUS the sample articles are ingested
# into an empty store (a store that already holds articles is left as it is).
run: install
	@if [ -n "$(CORPUS)" ]; then $(BIN)/newsbot ingest $(CORPUS) || true; \
	elif $(BIN)/newsbot list --json | grep -q '"id"'; then echo "using the articles already in the store"; \
	else $(BIN)/newsbot ingest samples; fi
	$(BIN)/newsbot serve --host $(HOST) --port $(PORT)

# The browser tests drive Debian's chromium (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-core >/dev/null) \
	  || echo "warning: could not install chromium; browser tests will be skipped"; }

test: install browser lint
	$(BIN)/python -m pytest -q

# Lint (ruff) and type checks (mypy): settings in pyproject.toml.
lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test-fast: install
	$(BIN)/python -m pytest -q -m "not slow and not browser"

bench: install
	$(BIN)/newsbot bench

# Every dev set of ../shared/eval through the chain, beside plain dense baselines (about 15 min).
eval-dev: install
	$(BIN)/python benchmarks/dev_matrix.py

clean:
	rm -rf $(VENV) newsbot-data .pytest_cache
