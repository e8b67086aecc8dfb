# license-operator

# Image the `docker-build` and `deploy` targets use.
IMG ?= license-operator:latest

# Tools live in ./bin, installed with `go install` at pinned versions.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
HELM ?= $(LOCALBIN)/helm
PROMTOOL ?= $(LOCALBIN)/promtool
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.1
HELM_VERSION ?= v3.22.0
# The Go module of Prometheus v3.15.0, whose promtool tests config/prometheus.
PROMETHEUS_VERSION ?= v0.315.0
KUBECTL ?= kubectl

# The Helm chart, kept in step with config/ by `make chart` (charts/chart_test.go checks it).
CHART ?= charts/license-operator

# The tests run against a real kube-apiserver and etcd (envtest); hack/envtest-binaries.sh
# finds them (KUBEBUILDER_ASSETS, setup-envtest's store), downloads them with setup-envtest, or
# builds them from source once.
ENVTEST_ASSETS = $(shell hack/envtest-binaries.sh)

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Show the targets.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Try it

# The demo runs as bin/demo, not under `go run`, and takes the terminal for itself: Ctrl-C then
# reaches the demo alone, which stops everything it started and exits 0, and make returns that.
# DEMO_FLAGS passes flags to it (bin/demo -h lists them).
.PHONY: demo
demo: manifests envtest-kubectl plugin ## Run the operator on a local control plane with the sample catalog and plans.
	go build -o bin/demo ./hack/demo
	KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" bin/demo $(DEMO_FLAGS)

.PHONY: test-demo
test-demo: ## Run `make demo` under a terminal and stop it with Ctrl-C, once and twice (about 2 minutes).
	LICENSE_DEMO=1 go test ./hack/demo -run TestCtrlC -count=1 -v -timeout 70m

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate the CRDs, RBAC and webhook configurations from the markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd webhook paths="./..." output:crd:artifacts:config=config/crd/bases

.PHONY: generate
generate: controller-gen ## Generate the DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: test
test: test-tools manifests generate fmt vet ## Run every unit and envtest test.
	PROMTOOL="$(PROMTOOL)" KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./... -coverprofile cover.out

# The fault-injection suite (test/faults) is not part of `make test`: it runs the workload once
# per write of the operator, twice (a write lost, a write unheard), so it takes about 20 minutes.
.PHONY: test-faults
test-faults: manifests envtest ## Prove exactly-once under crashes at every write, racing replicas and failover (slow; FAULTS_EVERY, FAULTS_RACES).
	LICENSE_FAULTS=1 KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/faults/ -v -timeout 60m -ginkgo.v

# The benchmark (test/scale) is not part of `make test` either: it measures the operator beside the
# design floor at N plans (default 1000), each side RUNS times (default 2), and prints the table the README shows.
.PHONY: bench
bench: manifests envtest ## Measure the operator against the design floor at N plans (N=1000; RUNS=2; WEBHOOKS=false to run without webhooks; BARE=1 adds the operator without entitlements and notices).
	LICENSE_BENCH=1 N=$${N:-1000} KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/scale/ -run TestBench -v -count=1 -timeout 300m

.PHONY: bench-restart
bench-restart: manifests envtest ## Measure the manager's peak RSS after restarts on N plans, with and without --operator-namespace, alternating (N=1000; RESTARTS=4; PROFILES=<dir> saves heap profiles).
	LICENSE_BENCH=1 N=$${N:-1000} KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/scale/ -run TestRestartMemory -v -count=1 -timeout 60m

.PHONY: bench-history
bench-history: manifests envtest ## Measure the manager's memory with 24 months of order history beside one month, at N plans (N=1000).
	LICENSE_BENCH=1 N=$${N:-1000} KUBEBUILDER_ASSETS="$(ENVTEST_ASSETS)" go test ./test/scale/ -run TestHistory -v -count=1 -timeout 120m

.PHONY: test-alerts
test-alerts: promtool ## Check the alerts of config/prometheus, run their promtool tests, and parse the dashboard's queries.
	PROMTOOL="$(PROMTOOL)" go test ./internal/metrics -run 'TestAlert|TestDashboard' -count=1 -v

# make test runs the plan-life model for 10,000 lives; make model runs LIVES (default 100,000).
.PHONY: model
model: ## Walk LIVES random plan lives (default 100000) through the plan-life model of internal/licensing.
	go test ./internal/licensing -run '^TestModel$$' -count=1 -v -timeout 60m -rapid.checks=$${LIVES:-100000}

.PHONY: fuzz
fuzz: ## Run each fuzz test of internal/licensing for FUZZTIME (default 30s).
	@for f in $$(go test ./internal/licensing -list '^Fuzz' | grep '^Fuzz'); do \
		go test ./internal/licensing -run '^$$' -fuzz "^$$f$$" -fuzztime $${FUZZTIME:-30s} || exit 1; \
	done

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -o bin/manager ./cmd

.PHONY: plugin
plugin: ## Build the kubectl plugin, bin/kubectl-license (put bin/ on PATH to run `kubectl license`).
	go build -o bin/kubectl-license ./cmd/kubectl-license

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster of your kubeconfig (without webhooks).
	go run ./cmd --webhooks=false

.PHONY: docker-build
docker-build: ## Build the manager image.
	docker build -t $(IMG) .

##@ Deployment

.PHONY: install
install: manifests kustomize ## Install the CRDs and the ledger policy into the cluster of your kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL) apply --server-side -f -
	$(KUSTOMIZE) build config/policy | $(KUBECTL) apply --server-side -f -

.PHONY: uninstall
uninstall: manifests kustomize ## Remove the CRDs and the ledger policy from the cluster of your kubeconfig.
	$(KUSTOMIZE) build config/policy | $(KUBECTL) delete --ignore-not-found -f -
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found -f -

.PHONY: samples
samples: kustomize ## Apply the sample catalog, billing profile and plans.
	$(KUSTOMIZE) build config/samples | $(KUBECTL) apply --server-side -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy the operator to the cluster of your kubeconfig.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: kustomize ## Remove the operator from the cluster of your kubeconfig.
	$(KUSTOMIZE) build config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Helm chart

# The chart's copies of what config/ holds: the CRDs (crds/, which Helm installs before the
# templates) and the manifests the templates read (files/: the manager's RBAC, the roles for people,
# the webhook configurations and the ledger policy).
.PHONY: chart
chart: manifests ## Copy the CRDs and the generated RBAC, webhook and policy manifests of config/ into the chart.
	rm -rf $(CHART)/crds $(CHART)/files
	mkdir -p $(CHART)/crds $(CHART)/files/rbac/people $(CHART)/files/webhook $(CHART)/files/policy
	cp config/crd/bases/*.yaml $(CHART)/crds/
	cp config/rbac/role.yaml config/rbac/leader_election_role.yaml $(CHART)/files/rbac/
	cp config/rbac/people/license_*_role.yaml $(CHART)/files/rbac/people/
	cp config/webhook/manifests.yaml $(CHART)/files/webhook/
	cp config/policy/ledger.yaml config/policy/assignment_label.yaml $(CHART)/files/policy/

# make test lints the chart too (charts/chart_test.go, with Helm's packages and no helm binary).
.PHONY: helm-lint
helm-lint: helm ## Lint the chart with the helm binary (also with --strict).
	$(HELM) lint $(CHART)
	$(HELM) lint --strict $(CHART)

##@ Tools

# The tools of `make test`, built side by side the first time: each build prints a line as it
# starts and one as it ends.
.PHONY: test-tools
test-tools: ## Build or find what `make test` needs: controller-gen, kube-apiserver and etcd, promtool.
	@$(MAKE) --no-print-directory -s -j3 controller-gen envtest promtool

.PHONY: envtest
envtest: ## Find, download or build kube-apiserver and etcd for envtest.
	@hack/envtest-binaries.sh >/dev/null

.PHONY: envtest-kubectl
envtest-kubectl: ## The same, and kubectl, which make demo uses.
	@hack/envtest-binaries.sh kubectl >/dev/null

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN)
$(CONTROLLER_GEN):
	@hack/tool.sh controller-gen $(CONTROLLER_TOOLS_VERSION) "~1 min on 2 cores" \
		env GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: kustomize
kustomize: $(KUSTOMIZE)
$(KUSTOMIZE):
	@hack/tool.sh kustomize $(KUSTOMIZE_VERSION) "~1 min on 2 cores" \
		env GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: helm
helm: $(HELM)
$(HELM):
	@hack/tool.sh helm $(HELM_VERSION) "~4 min on 2 cores" \
		env GOBIN=$(LOCALBIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

# promtool is built in its own module: `go install ...@version` refuses it, because the Prometheus
# module has replace directives. The tag remove_all_sd leaves out the service discoveries of the
# clouds (Prometheus's plugins/), which checking and testing rules never use.
.PHONY: promtool
promtool: $(PROMTOOL)
$(PROMTOOL):
	@hack/tool.sh promtool $(PROMETHEUS_VERSION) "~4 min on 2 cores" bash -ec '\
		d=$$(mktemp -d); (cd "$$d" && go mod download github.com/prometheus/prometheus@$(PROMETHEUS_VERSION)); rmdir "$$d"; \
		cd "$$(go env GOMODCACHE)/github.com/prometheus/prometheus@$(PROMETHEUS_VERSION)"; \
		GOWORK=off go build -tags remove_all_sd -o "$(PROMTOOL)" ./cmd/promtool'
