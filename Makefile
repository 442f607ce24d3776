# One command runs the system (make run), one passes the tests (make test); each target installs
# what it needs first. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
POETRY_VERSION := 2.5.1
MIRROR_PLUGIN_VERSION := 0.6.5
TOOLS := .tools
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

PACKAGE_FILES := pyproject.toml poetry.lock libs/factory_core/pyproject.toml \
	services/auth/pyproject.toml services/todo/pyproject.toml

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(POETRY):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet "poetry==$(POETRY_VERSION)" \
		"poetry-plugin-pypi-mirror==$(MIRROR_PLUGIN_VERSION)"

$(STAMPS)/install: $(POETRY) $(PACKAGE_FILES)
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

GUNICORN = $(BIN)/gunicorn -c python:factory_core.gunicorn_config
DEV_ENV = PROMETHEUS_MULTIPROC_DIR= WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2}

.PHONY: run-auth
run-auth: install devdb-start ## Run the auth service on :5001 (gunicorn, development settings)
	$(DEV_ENV) AUTH_ENV=$${AUTH_ENV:-development} AUTH_INSTANCE_PATH=$(CURDIR)/var/auth \
		$(GUNICORN) --bind 127.0.0.1:5001 auth_service.wsgi:app

.PHONY: run-todo
run-todo: install devdb-start ## Run the todo service on :5002 (gunicorn, development settings)
	$(DEV_ENV) TODO_ENV=$${TODO_ENV:-development} TODO_INSTANCE_PATH=$(CURDIR)/var/todo \
		$(GUNICORN) --bind 127.0.0.1:5002 todo_service.wsgi:app

.PHONY: create-admin
create-admin: install devdb-start ## Create (or promote) an admin: make create-admin USERNAME=alice
	@test -n "$(USERNAME)" || { echo "usage: make create-admin USERNAME=<name>"; exit 2; }
	AUTH_ENV=$${AUTH_ENV:-development} AUTH_INSTANCE_PATH=$(CURDIR)/var/auth \
		$(BIN)/flask --app auth_service create-admin "$(USERNAME)"

.PHONY: run
run: install devdb-start ## Run the dev database and both services (Ctrl-C stops the services)
	@trap 'kill 0' INT TERM EXIT; \
	$(MAKE) --no-print-directory run-auth & \
	$(MAKE) --no-print-directory run-todo & \
	wait

.PHONY: test
test: install devdb ## Run lint, type checks and the whole test suite
	$(MAKE) --no-print-directory lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --cov --cov-report=term $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff, mypy and the import contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: fmt
fmt: install ## Format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Feature areas keep their targets in mk/*.mk (contract, deploy, bench).
include $(wildcard mk/*.mk)

.PHONY: clean
clean: devdb-stop ## Remove build output, caches and local data (var/)
	rm -rf build var $(STAMPS) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov artifacts
