# One command runs the system (make run), one passes the tests (make test); each target installs
# what it needs first. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
POETRY_VERSION := 2.5.1
MIRROR_PLUGIN_VERSION := 0.6.5
TOOLS := .tools
# What is built or fetched once per machine (the dev database, oasdiff, the mail catcher, the
# trace viewer) lives outside the clone, shared by every clone.
CACHE := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/flask-factory
POETRY := $(TOOLS)/bin/poetry
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
DEVDB := build/devdb
PYTEST_WORKERS ?= 2

# The index poetry resolves against is pip's own, derived at run time (no host is committed).
export POETRY_PYPI_MIRROR_URL ?= $(shell $(PYTHON) tools/pip-index-url)
export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1

#: Every service of the workspace: services/<name>/ (make new-service NAME=... adds one).
SERVICES := $(notdir $(patsubst %/pyproject.toml,%,$(wildcard services/*/pyproject.toml)))
PACKAGE_FILES := pyproject.toml poetry.lock libs/factory_core/pyproject.toml \
	$(foreach service,$(SERVICES),services/$(service)/pyproject.toml)

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(POETRY):
	@PYTHON=$(PYTHON) tools/require python
	@echo "install: poetry $(POETRY_VERSION) into $(TOOLS)/ (first time only, about 30 s)"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "poetry==$(POETRY_VERSION)" \
		"poetry-plugin-pypi-mirror==$(MIRROR_PLUGIN_VERSION)"

$(STAMPS)/install: $(POETRY) $(PACKAGE_FILES)
	@echo "install: the workspace into $(VENV)/ with poetry (first time: about a minute)"
	$(POETRY) check --lock
	$(POETRY) sync
	@mkdir -p $(STAMPS) && touch $@

.PHONY: install
install: $(STAMPS)/install ## Install poetry and the workspace (.venv)

# The dev database is SecantusDB's MongoDB server, built with cargo once per machine and cached
# outside the clone (tools/devdb/install); build/devdb links to it.
$(DEVDB): tools/devdb/install
	tools/devdb/install

.PHONY: devdb
devdb: $(DEVDB) ## Build (once per machine) the dev database: SecantusDB's MongoDB server

.PHONY: devdb-start devdb-stop
devdb-start: $(DEVDB) ## Start the dev database in the background (unless MONGO_URI is set)
	tools/devdb-ensure start
devdb-stop: ## Stop the background dev database
	tools/devdb-ensure stop

# The processes of `make run` are in the Procfile; tools/run runs them (prefixed output, and
# Ctrl-C, a closed terminal or its own end stops exactly what it started). make run-auth and
# make run-todo run one of them.
RUNNER = $(BIN)/python tools/run --procfile Procfile --announce

.PHONY: run-auth run-todo $(addprefix run-,$(SERVICES))
run-auth: ## Run the auth service on :5001 (gunicorn, development settings)
run-todo: ## Run the todo service on :5002 (gunicorn, development settings)
$(addprefix run-,$(SERVICES)): run-%: install devdb-start
	$(RUNNER) $*

.PHONY: create-admin
create-admin: install devdb-start ## Create (or promote) an admin: make create-admin USERNAME=alice
	@test -n "$(USERNAME)" || { echo "usage: make create-admin USERNAME=<name>"; exit 2; }
	AUTH_ENV=$${AUTH_ENV:-development} AUTH_INSTANCE_PATH=$(CURDIR)/var/auth \
		$(BIN)/flask --app auth_service create-admin "$(USERNAME)"

.PHONY: migrate
migrate: install devdb-start ## Apply each service's pending migrations to the dev database (make run does too): ARGS=status, down
	@for service in $(SERVICES); do \
		tools/serve $$service 0 $(BIN)/flask --app $${service}_service migrate $(or $(ARGS),up) || exit 1; \
	done

# The dev database joins them unless MONGO_URI is set or a server already answers on
# DEVDB_LISTEN (127.0.0.1:27017): then the services use that one.
.PHONY: run
run: install $(DEVDB) mail-catcher $(if $(TRACING),trace-viewer) ## Run the dev database, the mail catcher and both services; TRACING=1 adds traces
	$(RUNNER) $$(tools/devdb-ensure needed >/dev/null && echo devdb) mail \
		$(if $(TRACING),traces) $(SERVICES)

# make run TRACING=1 (or run-<service>): the services trace every request, with the standard
# OTEL_* variables, into the local trace viewer (Zipkin: http://127.0.0.1:9411/zipkin/).
ifneq ($(TRACING),)
export TRACING
export OTEL_TRACES_EXPORTER ?= zipkin_json
export OTEL_EXPORTER_ZIPKIN_ENDPOINT ?= http://127.0.0.1:9411/api/v2/spans
export OTEL_BSP_SCHEDULE_DELAY ?= 1000
endif

.PHONY: mail-catcher
mail-catcher: install ## Build (once per machine) the mail catcher, Mailpit, with the lock's Go and Node
	tools/mail-catcher install

.PHONY: trace-viewer
trace-viewer: install ## Fetch (once per machine) the local trace viewer, Zipkin, run by the lock's Java
	tools/trace-viewer install

# What the suite needs beyond the workspace, before anything long starts: a browser, the trace
# viewer, the mail catcher and the clients' TypeScript tools (built or fetched with the
# toolchains of the lock: tools/toolchain), each installed once, before the workers share it.
.PHONY: test-prerequisites
test-prerequisites: install
	@mkdir -p build && tools/ensure-browser >build/chromium-path
	@tools/trace-viewer install
	@tools/mail-catcher install
	@tools/clients/run install

.PHONY: test
test: test-prerequisites install devdb ## Run lint, type checks and the whole test suite
	$(MAKE) --no-print-directory lint
	CHROMIUM_PATH=$$(cat build/chromium-path) \
		$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term $(PYTEST_ARGS)

.PHONY: new-service
new-service: install ## Generate a service that trusts auth's tokens: make new-service NAME=notes [PORT=5003]
	@test -n "$(NAME)" || { echo "usage: make new-service NAME=<name> [PORT=<port>]"; exit 2; }
	$(BIN)/python tools/new-service $(NAME) $(if $(PORT),--port $(PORT))
	$(POETRY) lock
	$(MAKE) --no-print-directory install
	$(BIN)/python -m tools.contract.openapi_spec write $(NAME)
	$(BIN)/python -m tools.clients.generate write $(NAME)
	@echo "new-service: make run-$(NAME) serves it; make test runs its tests with everything else"

.PHONY: lint
lint: install ## ruff, mypy, the import contracts, the OpenAPI specs (Redocly) and the docs (strict)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory spec-lint
	$(MAKE) --no-print-directory docs-check

# Redocly CLI (tools/spec-lint/package-lock.json) with the lock's Node, cached outside the clone.
.PHONY: spec-lint
spec-lint: install ## Lint every services/<svc>/openapi.json with Redocly CLI (rules: redocly.yaml)
	tools/spec-lint/run

# The documentation site (mkdocs.yml, docs/): strict, so a broken link or anchor, or a setting
# without its #: comment (the configuration page is made from the settings classes), fails.
export NO_MKDOCS_2_WARNING := 1
.PHONY: docs docs-check
docs: install ## Serve the documentation site on http://127.0.0.1:8000 (rebuilt on save)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000
docs-check: install ## Build the documentation site in strict mode (build/site)
	$(BIN)/mkdocs build --strict --quiet

.PHONY: fmt
fmt: install ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Feature areas keep their targets in mk/*.mk (contract, deploy, bench).
include $(wildcard mk/*.mk)

.PHONY: clean
clean: devdb-stop ## Remove build output, caches and local data (var/)
	rm -rf build var $(STAMPS) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov artifacts
