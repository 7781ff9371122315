# popcheck: two commands on a fresh machine with only python3 and make:
#   make run    install what the service needs to run, then serve it (foreground) on
#               http://127.0.0.1:$PORT (HOST=0.0.0.0 to listen on every interface)
#   make test   install the development tools too, lint, then the whole test suite
#   make spec   regenerate openapi.yaml from the schemas (service/schemas, service/api/spec_paths.yaml)
#   make lock   bring uv.lock up to date with pyproject.toml (make lock-upgrade: newest allowed)
#   make audit  pip-audit over every package in uv.lock
#
# Every install comes from uv.lock (versions and hashes, runtime and dev extras in one file),
# through uv, itself installed from tools/uv.txt (pinned with hashes) into .tools/.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
# The runtime packages, and the development extras on top (make test, lint, spec, bench...).
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
# `make lint` (and so `make test`) also needs Node.js (20 or 18) and npm, for the tools callers
# read openapi.yaml with (tools/node): Debian's `nodejs` and `npm`, which `bash .ci/run` installs.
# Redocly CLI, openapi-typescript and tsc, pinned in tools/node/package-lock.json; node_modules
# there is git-ignored and reinstalled (npm ci) only when the lock file changes.
NODE_DIR   := tools/node
NODE_BIN   := $(NODE_DIR)/node_modules/.bin
NODE_STAMP := $(NODE_DIR)/node_modules/.installed
# Redocly CLI: no usage data sent home, no check for a newer release.
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

# uv uses the python3 that is here (never downloads one) and puts the project in .venv.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON := $(PYTHON)
# popcheck is installed in strict editable mode (links from build/ onto service/), so a new
# module needs the project reinstalled: the stamps depend on every file under service/.
UV_SYNC := $(UV) sync --locked --no-progress --reinstall-package popcheck
SERVICE_FILES := $(shell find service -type f -not -path '*/__pycache__/*')
STALE_LOCK := echo "popcheck: install failed. If uv says the lockfile needs to be updated," \
	"pyproject.toml changed without uv.lock: run make lock and commit uv.lock." >&2; exit 1

.PHONY: install install-dev run test lint format spec bench rules-check rules-test lock \
	lock-upgrade audit clean

$(NODE_STAMP): $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make lint needs Node.js and npm (Debian: apt-get install nodejs npm; bash .ci/run installs them)" >&2; exit 1; }
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

$(UV): tools/uv.txt
	@echo "popcheck: installing uv (the installer, pinned in tools/uv.txt) into $(TOOLS)/ ..."
	test -x $(TOOLS)/venv/bin/python || $(PYTHON) -m venv $(TOOLS)/venv
	$(TOOLS)/venv/bin/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps --target $(TOOLS) --upgrade -r tools/uv.txt
	touch $(UV)

# Runtime only: what `popcheck serve` needs, nothing else. --inexact leaves a development
# install's extra tools in place; reinstalls whenever pyproject.toml or uv.lock changes.
$(RUN_STAMP): pyproject.toml uv.lock $(UV) $(SERVICE_FILES)
	@echo "popcheck: installing the service's runtime packages into $(VENV)/ from uv.lock ..."
	$(UV_SYNC) --inexact || { $(STALE_LOCK); }
	touch $(RUN_STAMP)

# Runtime + the dev extra, exactly what uv.lock says (anything else in .venv is removed).
$(DEV_STAMP): pyproject.toml uv.lock $(UV) $(SERVICE_FILES)
	@echo "popcheck: installing the runtime and development packages into $(VENV)/ from uv.lock ..."
	$(UV_SYNC) --extra dev || { $(STALE_LOCK); }
	touch $(DEV_STAMP) $(RUN_STAMP)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

# Stays in the foreground; Ctrl-C stops it. Prints the /docs address once it answers.
run: $(RUN_STAMP)
	HOST=$(HOST) $(BIN)/popcheck serve --announce

lint: $(DEV_STAMP) $(NODE_STAMP)
	$(BIN)/ruff check service deploy tests bench examples/clients
	$(BIN)/ruff format --check service deploy tests bench examples/clients
	$(BIN)/mypy
	$(NODE_BIN)/redocly lint --format=stylish openapi.yaml
	$(NODE_BIN)/openapi-typescript openapi.yaml -o examples/clients/popcheck.ts
	$(NODE_BIN)/tsc -p examples/clients

format: $(DEV_STAMP)
	$(BIN)/ruff format service deploy tests bench examples/clients
	$(BIN)/ruff check --fix service deploy tests bench examples/clients

test: lint
	$(BIN)/python -m pytest

# openapi.yaml is generated: edit service/schemas/ or service/api/spec_paths.yaml, then this.
spec: $(RUN_STAMP)
	$(BIN)/popcheck spec -o openapi.yaml

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

rules-check: $(RUN_STAMP)
	$(BIN)/popcheck rules check

rules-test: $(RUN_STAMP)
	$(BIN)/popcheck rules test

# After editing pyproject.toml's dependencies: pins what is new, keeps every other pin.
lock: $(UV)
	$(UV) lock

# Every package to the newest version pyproject.toml allows.
lock-upgrade: $(UV)
	$(UV) lock --upgrade

# Every package of uv.lock, runtime and dev, against pip-audit's default vulnerability
# service (PyPI's per-release JSON API). --strict: a package it cannot look up fails the audit.
audit: $(DEV_STAMP)
	$(UV) export --locked --all-extras --no-emit-project --no-header --format requirements-txt \
		--quiet -o $(VENV)/audit-requirements.txt
	$(BIN)/pip-audit --strict --require-hashes --disable-pip --progress-spinner off \
		-r $(VENV)/audit-requirements.txt \
	|| { echo "popcheck: make audit did NOT pass (a vulnerability, or a package the" \
		"vulnerability service could not be asked about: that is no pass either)" >&2; exit 1; }

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .hypothesis .schemathesis
	rm -rf $(NODE_DIR)/node_modules examples/clients/popcheck.ts
