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
# The packages with benchmarks (the others' TestMain would start control planes for nothing).
BENCH_PKGS ?= $(shell grep -rl --include='*_test.go' '^func Benchmark' . | xargs -n1 dirname | sort -u)

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_-]+:.*?##/ { printf "  %-18s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from the API types and kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/..." paths="./controllers/..." paths="./internal/manager/..." paths="./internal/dataapi/..." \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac
	$(CONTROLLER_GEN) rbac:roleName=gateway-role paths="./internal/gateway/..." output:rbac:artifacts:config=config/rbac/gateway
	cp config/crd/bases/*.yaml charts/consent-operator/files/crds/

.PHONY: generate
generate: ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: verify-generated
verify-generated: manifests generate ## Fail when generated code or manifests are stale.
	@if [ -n "$$(git status --porcelain -- api config charts/consent-operator/files/crds)" ]; then \
		echo "Generated files are stale; run 'make manifests generate' and commit:"; \
		git status --porcelain -- api config charts/consent-operator/files/crds; \
		git diff --stat -- api config charts/consent-operator/files/crds; exit 1; fi

.PHONY: verify-tidy
verify-tidy: ## Fail when go.mod or go.sum (of the module or hack/envtest-tools) is not tidy.
	$(GO) mod tidy -diff
	cd hack/envtest-tools && $(GO) mod tidy -diff

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

# The providers' OpenAPI documents, the contract of the sandbox's tests, live outside the
# repository: in $CONSENT_OPERATOR_PROVIDER_DOCS, default ../shared (internal/providerdocs).
.PHONY: provider-docs
provider-docs: ## Download the providers' pinned OpenAPI documents (hack/provider-docs.txt) into $CONSENT_OPERATOR_PROVIDER_DOCS (default ../shared).
	$(GO) build -o $(BIN)/provider-docs ./hack/provider-docs
	$(BIN)/provider-docs download

.PHONY: verify-provider-docs
verify-provider-docs: ## Fail at once when the providers' documents are missing or not the pinned versions.
	@$(GO) build -o $(BIN)/provider-docs ./hack/provider-docs
	@$(BIN)/provider-docs verify

.PHONY: postgres
postgres: ## Start a private PostgreSQL on 127.0.0.1 for the store tests (installs it if missing).
	hack/postgres.sh start

##@ Test

.PHONY: test
test: verify-provider-docs envtest postgres ## Run all tests: envtest suites on a real kube-apiserver, store tests on PostgreSQL and SQLite.
	CONSENT_OPERATOR_TEST_POSTGRES_DSN="$$(hack/postgres.sh dsn)" $(GO) test $(TEST_FLAGS) $(TEST_PKGS)
	@# Every benchmark once, for its checks (not its figures): one that stops working is
	@# caught here, not on the day someone measures.
	CONSENT_OPERATOR_TEST_POSTGRES_DSN="$$(hack/postgres.sh dsn)" $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x $(BENCH_PKGS)

.PHONY: test-chart
test-chart: envtest ## Render and check the Helm chart and config/default (server-side dry runs on envtest) and the Argo CD health checks.
	$(GO) test -count=1 ./test/chart/ ./test/kustomize/ ./test/argocd/

##@ Scale and faults

# Sizes `make bench-scale` runs, one after the other (10000 takes about an hour on 2 cores).
SCALE_SIZES ?= 1000 5000

.PHONY: bench-scale
bench-scale: envtest ## Scale benchmark: N BankConnections + 10,000 unrelated Secrets, manager as a process; prints the figures (docs/benchmarks.md).
	$(GO) build -o $(BIN)/consent-operator ./cmd/consent-operator
	for n in $(SCALE_SIZES); do \
		$(GO) test ./test/scale/ -run '^TestScale$$' -count=1 -v -timeout 120m -args -scale.n=$$n -scale.unrelated=10000 \
			-scale.steady=60s -scale.manager-binary=$(BIN)/consent-operator -scale.report=$(BIN)/bench-scale.md \
			-scale.heap-profile=$(BIN)/heap-$$n.pprof || exit 1; \
		$(GO) tool pprof -top -sample_index=inuse_space $(BIN)/heap-$$n.pprof | head -25; \
	done

.PHONY: test-faults
test-faults: envtest ## Fault suite, full size: 20 SIGKILLs of the manager in a refresh storm, an apiserver restart, sandbox faults.
	$(GO) test ./test/faults/ -run '^TestFaults$$' -count=1 -v -timeout 30m -args -faults.n=500 -faults.kills=20 -faults.kills-per-round=4

##@ Run

.PHONY: run
run: ## Run the manager against the cluster of the current kubeconfig (SQLite store in bin/run).
	$(GO) build -o $(BIN)/consent-operator ./cmd/consent-operator
	exec $(BIN)/consent-operator --data-dir=$(BIN)/run $(ARGS)

IMG ?= ghcr.io/consent-operator/consent-operator:dev

.PHONY: docker-build
docker-build: ## Build the manager image (needs a Docker engine with BuildKit).
	docker build -t $(IMG) .

# Built, then exec'd rather than `go run`: signals reach devenv itself, and its exit
# status is the command's (go run adds "exit status N" noise of its own).
.PHONY: dev
dev: envtest ## Local control plane, bank sandbox, manager and samples; Ctrl-C stops everything. ARGS=--keep-store keeps the store.
	$(GO) build -o $(BIN)/devenv ./hack/devenv
	exec $(BIN)/devenv $(ARGS)
