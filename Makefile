# consent-operator Makefile. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

GO ?= go
CONTROLLER_GEN ?= $(GO) tool controller-gen
BIN ?= $(CURDIR)/bin
# Control-plane binaries built from Go modules by hack/envtest-binaries.sh.
export KUBEBUILDER_ASSETS ?= $(BIN)/k8s
# Packages under test: everything, including the store contract tests on PostgreSQL.
TEST_PKGS ?= ./...
TEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the API types and kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated code or manifests are stale.
	@if [ -n "$$(git status --porcelain -- api config)" ]; then \
		echo "Generated files are stale; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config; git diff --stat -- api config; exit 1; fi

.PHONY: fmt
fmt: ## Run gofmt.
	gofmt -s -w $$(git ls-files '*.go')

.PHONY: vet
vet: ## Run go vet.
	$(GO) vet ./...

.PHONY: build
build: ## Build the manager into bin/.
	$(GO) build -o $(BIN)/consent-operator ./cmd/consent-operator
	$(GO) build -o $(BIN)/bank-sandbox ./cmd/bank-sandbox

.PHONY: envtest
envtest: ## Build kube-apiserver, etcd and kubectl from Go modules into bin/k8s (once).
	hack/envtest-binaries.sh >/dev/null

.PHONY: postgres
postgres: ## Start a private PostgreSQL on 127.0.0.1 for the store tests (installs it if missing).
	hack/postgres.sh start

##@ Test

.PHONY: test
test: envtest postgres ## Run all tests: envtest suites on a real kube-apiserver, store tests on PostgreSQL and SQLite.
	CONSENT_OPERATOR_TEST_POSTGRES_DSN="$$(hack/postgres.sh dsn)" $(GO) test $(TEST_FLAGS) $(TEST_PKGS)

##@ Run

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig.
	$(GO) run ./cmd/consent-operator $(ARGS)

.PHONY: dev
dev: envtest ## Start a local control plane, install the CRDs and run the manager; Ctrl-C stops everything.
	$(GO) run ./hack/devenv
