# jiancha: two commands set everything up on a fresh machine.
#   make demo   virtualenv, install, migrate SQLite, demo data, serve on http://127.0.0.1:8000
#   make test   install what the tests need (Chromium included) and run the whole suite
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_CASES ?= 50000
DEMO_SEED ?= 1
# CAIL-style judgments: train the learned checks and give demo cases facts (skipped when absent).
JUDGMENTS ?= ../shared/data/cases_cail2018_subset/cases.jsonl
HOST ?= 127.0.0.1
PORT ?= 8000
SQLITE_TEST_URL := sqlite:///$(CURDIR)/var/test.sqlite3

# The newest Python >= 3.12 on this machine: PATH first, then pyenv's versions.
PYTHON ?= $(shell for c in python3.14 python3.13 python3.12 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) ; do \
	p=$$(command -v $$c 2>/dev/null) || continue; \
	$$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: static-vendor demo test install install-test chromium jemalloc messages check test-sqlite test-postgres serve clean

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then echo "error: jiancha needs Python >= 3.12 (Django 6); none found on PATH or under pyenv. Install one, or run 'make PYTHON=/path/to/python3.12'." >&2; exit 1; fi
	@echo "Using $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	$(MAKE) --no-print-directory messages static-vendor jemalloc

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	$(MAKE) --no-print-directory messages static-vendor jemalloc

# Front-end packages (ECharts) come from the npm registry at build time and are served by the
# project itself: no CDN.
static-vendor:
	@if [ -f package.json ]; then \
		if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --silent --no-audit --no-fund; fi; \
		mkdir -p jiancha/static/vendor; \
		[ -f node_modules/echarts/dist/echarts.min.js ] && cp node_modules/echarts/dist/echarts.min.js jiancha/static/vendor/ || true; \
	fi

messages:
	@mkdir -p var
	cd jiancha && ../$(BIN)/jiancha compilemessages --ignore=.venv -v 0

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# jemalloc as malloc for the jiancha command and gunicorn (jiancha/core/allocator.py): the
# single-case evaluation is about 17 % faster with it. Without it (no apt, no root) jiancha
# runs on glibc's malloc.
jemalloc:
	@[ -n "$$($(BIN)/python -c 'from jiancha.core.allocator import jemalloc_library as j; print(j() or "")')" ] || { \
		echo "Installing Debian's libjemalloc2 (malloc for the jiancha command and gunicorn)"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libjemalloc2 >/dev/null 2>&1 \
		|| { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libjemalloc2 >/dev/null; } \
		|| echo "libjemalloc2 could not be installed: jiancha runs on glibc's malloc"; }

demo: install
	@mkdir -p var
	$(BIN)/jiancha migrate --no-input -v 0
	$(BIN)/jiancha demo-data --cases $(DEMO_CASES) --seed $(DEMO_SEED) --to $$(date +%Y-%m-%d) --if-empty --no-evaluate
	$(BIN)/jiancha demo-users
	$(BIN)/jiancha demo-reviews --if-empty
	@if [ -f "$(JUDGMENTS)" ]; then \
		$(BIN)/jiancha train-charge-model --data "$(JUDGMENTS)" --if-missing && \
		$(BIN)/jiancha demo-facts --data "$(JUDGMENTS)" --if-empty; \
	else \
		echo "No court judgments at $(JUDGMENTS): the demo runs without the learned checks (docs/apps/quality-models.md)."; \
	fi
	$(BIN)/jiancha evaluate
	$(BIN)/jiancha build-snapshot
	$(BIN)/jiancha collectstatic --no-input -v 0
	@echo "Serving jiancha on http://$(HOST):$(PORT)/ (Ctrl-C to stop)"
	LD_PRELOAD=$$($(BIN)/python -m jiancha.core.allocator) $(BIN)/gunicorn jiancha.wsgi --bind $(HOST):$(PORT) --workers $$(( $$(nproc) * 3 )) --access-logfile -

check: install-test
	$(BIN)/jiancha makemigrations --check --dry-run -v 1
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_translations.py

test-sqlite:
	@mkdir -p var
	DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest -q --create-db

test-postgres:
	$(BIN)/pytest -q --create-db

# The whole suite on SQLite, and again on PostgreSQL when DATABASE_URL points at one (CI).
test: install-test chromium check
	$(MAKE) --no-print-directory test-sqlite
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then $(MAKE) --no-print-directory test-postgres; \
	else echo "DATABASE_URL is not PostgreSQL: the suite ran on SQLite only (CI runs it on PostgreSQL too)."; fi

clean:
	rm -rf $(VENV) var build *.egg-info
