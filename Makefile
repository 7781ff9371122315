# popcheck: two commands on a fresh machine with only python3 and make:
#   make run    start the service (gunicorn, deploy/gunicorn.conf.py) on 0.0.0.0:$PORT
#   make test   install everything, lint, then the whole test suite
#   make spec   regenerate openapi.yaml from the schemas (service/schemas, service/api/spec_paths.yaml)
# `make lint` (and so `make test`) also needs Node.js (20 or 18) and npm, for the tools callers
# read openapi.yaml with (tools/node): Debian's `nodejs` and `npm`, which `bash .ci/run` installs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Redocly CLI, openapi-typescript and tsc, pinned in tools/node/package-lock.json; node_modules
# there is git-ignored and reinstalled (npm ci) only when the lock file changes.
NODE_DIR   := tools/node
NODE_BIN   := $(NODE_DIR)/node_modules/.bin
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
# Redocly CLI: no usage data sent home, no check for a newer release.
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

.PHONY: install run test lint format spec bench rules-check rules-test clean

# Reinstall whenever pyproject.toml changes; the stamp records the last good install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip check
	touch $(STAMP)

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make lint needs Node.js and npm (Debian: apt-get install nodejs npm; bash .ci/run installs them)" >&2; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/popcheck serve

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check service deploy tests bench examples/clients
	$(BIN)/ruff format --check service deploy tests bench examples/clients
	$(BIN)/mypy
	$(NODE_BIN)/redocly lint --format=stylish openapi.yaml
	$(NODE_BIN)/openapi-typescript openapi.yaml -o examples/clients/popcheck.ts
	$(NODE_BIN)/tsc -p examples/clients

format: $(STAMP)
	$(BIN)/ruff format service deploy tests bench examples/clients
	$(BIN)/ruff check --fix service deploy tests bench examples/clients

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
	rm -rf $(NODE_DIR)/node_modules examples/clients/popcheck.ts
