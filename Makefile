# popcheck: two commands on a fresh machine with only python3 and make:
#   make run    start the service (gunicorn, deploy/gunicorn.conf.py) on 0.0.0.0:$PORT
#   make test   install everything, lint, then the whole test suite
#   make spec   regenerate openapi.yaml from the schemas (service/schemas, service/api/spec_paths.yaml)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format spec bench rules-check rules-test clean

# Reinstall whenever pyproject.toml changes; the stamp records the last good install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/popcheck serve

lint: $(STAMP)
	$(BIN)/ruff check service deploy tests bench
	$(BIN)/ruff format --check service deploy tests bench
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format service deploy tests bench
	$(BIN)/ruff check --fix service deploy tests bench

test: lint
	$(BIN)/python -m pytest

# openapi.yaml is generated: edit service/schemas/ or service/api/spec_paths.yaml, then this.
spec: $(STAMP)
	$(BIN)/popcheck spec -o openapi.yaml

bench: $(STAMP)
	$(BIN)/python -m bench

rules-check: $(STAMP)
	$(BIN)/popcheck rules check

rules-test: $(STAMP)
	$(BIN)/popcheck rules test

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis
