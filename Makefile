# Picus developer commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint lint-python fmt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: serve Picus on http://127.0.0.1:8000 (embedded SQLite unless DATABASE_URL is set)
run: $(STAMP)
	$(BIN)/picus serve

## test: lint, then the whole suite against a throwaway PostgreSQL and SQLite
test: lint
	$(BIN)/pytest

## lint: every linter; each area adds its own lint-* target as a prerequisite here
lint: lint-python

## lint-python: ruff (lint + format check) and mypy
lint-python: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## fmt: apply ruff's formatting and safe fixes
fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
