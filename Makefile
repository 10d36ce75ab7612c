# The one way to set up, run and test Zhitong (README "Quick start"; .ci/run calls `make test`).
# Works on a fresh Debian machine with Python >= 3.11 and no Redis, also with CI=true and no stdin.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BENCH_ARGS ?=
PYTEST_ARGS ?=

# The first interpreter on PATH that is Python >= 3.11 (override: make run PYTHON=/path/python3).
PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { command -v $$p; break; }; done)

# apt-get needs root: use sudo only when it works without a password prompt (CI has no stdin).
SUDO := $(shell [ "$$(id -u)" = 0 ] || { sudo -n true 2>/dev/null && echo "sudo -n"; } || echo none)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive apt-get -o Dpkg::Use-Pty=0 install -y -q

.PHONY: help run test lint typecheck bench bench-tools setup redis-server chromium docs clean train

help:  ## Show the targets.
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: setup redis-server  ## Run Redis + intake + router + notifier + demo webhook receiver; Ctrl-C stops.
	$(BIN)/zhitong run

# ruff, its format check or mypy failing does not hide the test results: all run, and any
# failing fails the target.
test: setup redis-server chromium  ## Lint, format-check and type-check, then run the whole test suite against real Redis.
	@status=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "$(BIN)/ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	echo "$(BIN)/mypy shared services zhitong"; $(BIN)/mypy shared services zhitong || status=1; \
	echo "$(BIN)/pytest -q $(PYTEST_ARGS)"; $(BIN)/pytest -q $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -ne 0 ]; then echo "make test: failed (ruff, mypy or pytest, see above)" >&2; fi; \
	exit $$status

lint: setup  ## ruff (lint + format check) and mypy --strict.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy shared services zhitong

typecheck: setup  ## mypy --strict over the code (tests excluded).
	$(BIN)/mypy shared services zhitong

bench: setup redis-server bench-tools  ## Run the benchmarks (make bench BENCH_ARGS=--quick for a short run).
	$(BIN)/zhitong bench $(BENCH_ARGS)

# What only the benchmark needs, installed by itself as `make run` installs Redis: py-spy
# ([bench] extra), the arq peer (pinned here: arq 0.28.0 declares redis<6, which no resolver
# can satisfy beside redis-py 7, and runs fine on it), wrk (Debian) and the BullMQ peer (npm,
# under var/bench-node; skipped with a note when node is missing).
bench-tools: setup
	@$(BIN)/python -m pip install --quiet -e '.[bench]'
	@$(BIN)/python -c 'import arq' 2>/dev/null || $(BIN)/python -m pip install --quiet --no-deps arq==0.28.0
	@if ! command -v wrk >/dev/null; then \
		if [ "$(SUDO)" = none ] || ! command -v apt-get >/dev/null; then \
			echo "note: wrk not installed and apt unavailable; HTTP intake uses httpx" >&2; \
		else \
			{ $(SUDO) apt-get update -q && $(SUDO) $(APT_INSTALL) wrk; } \
				|| echo "note: wrk could not be installed; HTTP intake uses httpx" >&2; \
		fi; \
	fi
	@if ! command -v npm >/dev/null; then \
		echo "note: node/npm not installed; the BullMQ peer will be skipped" >&2; \
	elif [ ! -d var/bench-node/node_modules/bullmq ]; then \
		mkdir -p var/bench-node && npm install --silent --no-audit --no-fund --prefix var/bench-node \
			bullmq@6.7.0 ioredis@5.11.1 \
			|| echo "note: npm could not install bullmq; the BullMQ peer will be skipped" >&2; \
	fi

setup: $(STAMP)  ## Create .venv and install the project with its test extras.

# Reinstall only when pyproject.toml changes (or the venv is new).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Python >= 3.11 not found (Debian: apt-get install -y python3 python3-venv)" >&2; \
		exit 1; \
	fi
	@if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
		if [ "$(SUDO)" = none ] || ! command -v apt-get >/dev/null; then \
			echo "error: $(PYTHON) cannot create a venv; install python3-venv (apt-get install -y python3-venv)" >&2; \
			exit 1; \
		fi; \
		echo "installing python3-venv with apt-get"; \
		$(SUDO) apt-get update -q && $(SUDO) $(APT_INSTALL) python3-venv; \
	fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

redis-server:  ## Make sure redis-server is installed (Debian's package, when it can).
	@if ! command -v redis-server >/dev/null; then \
		if [ "$(SUDO)" = none ] || ! command -v apt-get >/dev/null; then \
			echo "error: redis-server is not installed and cannot be installed here;" \
			     "install it (Debian: apt-get install -y redis-server) and retry" >&2; \
			exit 1; \
		fi; \
		echo "installing redis-server with apt-get"; \
		$(SUDO) apt-get update -q && $(SUDO) $(APT_INSTALL) redis-server; \
		command -v redis-server >/dev/null || { echo "error: redis-server still missing" >&2; exit 1; }; \
	fi

# The console test renders /console in headless Chromium; without it that one test skips,
# so a machine where apt cannot install it still builds (never fails here).
chromium:  ## Install Debian's chromium + a CJK font for the console test, when it can.
	@if ! command -v chromium >/dev/null; then \
		if [ "$(SUDO)" = none ] || ! command -v apt-get >/dev/null; then \
			echo "note: chromium not installed and apt unavailable; the console test will skip" >&2; \
		else \
			echo "installing chromium with apt-get"; \
			{ $(SUDO) apt-get update -q && $(SUDO) $(APT_INSTALL) chromium fonts-wqy-zenhei; } \
				|| echo "note: chromium could not be installed; the console test will skip" >&2; \
		fi; \
	fi

# Offline only: the weights it writes are committed, so running intake needs no scikit-learn.
train: setup  ## Retrain the classifier on corpus/classify/ (installs the [train] extra).
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python -m zhitong.classify_train
	$(BIN)/zhitong classify eval

docs: setup  ## Regenerate docs/asyncapi.yaml and docs/openapi.json from the code.
	$(BIN)/zhitong docs

clean:  ## Remove the venv, caches and local run data (var/).
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
