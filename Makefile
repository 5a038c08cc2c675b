# Every target uses the virtual environment in .venv, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ECS := $(BIN)/ecs-operator
PYTEST_ARGS ?=
# REAL=1: the local cluster with its real node (cluster-build, cluster-up, demo).
REAL ?=
REAL_NODE_FLAG := $(if $(filter-out 0,$(REAL)),--real-node,)

.DEFAULT_GOAL := help
.PHONY: help venv test check fmt fmt-check lint types unit integration realnode-test crds demo run \
        cluster-build cluster-up cluster-down cluster-status bench bench-api bench-console bench-scale \
        kind-up kind-down kind-load kind-deploy kind-test image clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)  ## create .venv and install the project with its dev extras

test: fmt-check lint types unit integration  ## everything CI checks: format, lint, types, unit and integration tests

check: fmt-check lint types unit  ## the checks that need no cluster

fmt: $(STAMP)  ## format the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

fmt-check: $(STAMP)
	$(BIN)/ruff format --check .

lint: $(STAMP)
	$(BIN)/ruff check .

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)  ## unit tests (no cluster)
	$(BIN)/pytest tests/unit $(PYTEST_ARGS)

integration: $(STAMP)  ## integration tests on $$KUBECONFIG, else on the local control plane (built and started as needed)
	$(BIN)/pytest tests/integration -m "integration and not realnode and not kind" $(PYTEST_ARGS)
	$(BIN)/pytest tests/integration/realnode -m realnode $(PYTEST_ARGS)
	$(if $(ECS_OPERATOR_KIND),$(BIN)/pytest tests/integration/kind -m kind $(PYTEST_ARGS))

realnode-test: $(STAMP)  ## only the tests on the real node (root; skipped without the packages docs/local-cluster.md lists)
	$(BIN)/pytest tests/integration/realnode -m realnode $(PYTEST_ARGS)

crds: $(STAMP)  ## regenerate crds/ from the models
	$(ECS) crds --output-dir crds

cluster-build: $(STAMP)  ## build the local control plane binaries (cached under ~/.cache/ecs-operator; REAL=1: the real node's too)
	$(ECS) local-cluster build $(REAL_NODE_FLAG)

cluster-up: $(STAMP)  ## start the local control plane (REAL=1: with the real node); kubeconfig in .local/kubeconfig
	$(ECS) local-cluster up $(REAL_NODE_FLAG)

cluster-down: $(STAMP)  ## stop the local control plane and remove its state
	$(ECS) local-cluster down

cluster-status: $(STAMP)
	$(ECS) local-cluster status

demo: $(STAMP)  ## local control plane + CRDs + operator + samples; prints what an ECS user wants to see (REAL=1: web on the real node)
	$(BIN)/python -m ecs_operator.demo $(REAL_NODE_FLAG)

run: $(STAMP)  ## run one operator (no leader election) against $$KUBECONFIG (or .local/kubeconfig)
	$(ECS) run --no-leader-elect

bench: $(STAMP)  ## convergence of services and tasks (N=100, N=1000), request costs, 10-minute soak, failover, API and console at 200 vs 1000 services, chaos and bad input at full size
	$(BIN)/python bench/converge.py --services 100
	$(BIN)/python bench/converge.py --services 1000 --bound
	$(BIN)/python bench/converge.py --tasks 1000 --bound
	$(BIN)/python bench/request_costs.py
	$(BIN)/python bench/soak.py --services 100 --minutes 10
	$(BIN)/python bench/failover.py --services 200
	$(BIN)/python bench/scale.py --from 200 --to 1000
	ECS_CHAOS_SERVICES=200 ECS_BAD_INPUT_EXAMPLES=5000 ECS_BAD_INPUT_CREATED=50 \
		$(BIN)/pytest tests/integration/test_chaos.py tests/integration/test_bad_input.py -m integration

bench-api: $(STAMP)  ## the ECS API against moto's ECS server: 1000 services, 50 clients
	$(BIN)/python bench/api.py --services 1000 --clients 50

bench-console: $(STAMP)  ## the console: render times with 1000 services, API requests of 100 open pages at rest
	$(BIN)/python bench/console.py --services 1000 --pages 100 --seconds 60

bench-scale: $(STAMP)  ## ECS's quota: 5000 services converging (against the bound), the API and console at 1000 vs 5000
	$(BIN)/python bench/converge.py --services 5000 --bound
	$(BIN)/python bench/scale.py --from 1000 --to 5000

KIND_CLUSTER ?= ecs-operator
IMAGE ?= ecs-operator:dev

image: $(STAMP)  ## build the operator image: Docker if its engine runs, else podman (with a local Debian base if need be)
	$(ECS) local-cluster image --tag $(IMAGE)

kind-up: $(STAMP)  ## a kind cluster from kind-config.yaml, nodes Ready (Docker, else podman with a node image built here)
	$(ECS) kind up --name $(KIND_CLUSTER) --config kind-config.yaml

kind-down: $(STAMP)  ## delete the kind cluster, its network and volumes
	$(ECS) kind down --name $(KIND_CLUSTER)

kind-load: image  ## build the image and load it (on podman: and the samples' images) into the kind nodes
	$(ECS) kind load --name $(KIND_CLUSTER) --samples $(IMAGE)

kind-deploy: $(STAMP)  ## install CRDs, operator, ECS API and console into the kind cluster (manifests/kind)
	$(ECS) kind deploy --name $(KIND_CLUSTER) manifests/kind

kind-test: $(STAMP)  ## the kind tests: a cluster of their own, built and deleted by the session
	$(BIN)/pytest tests/integration/kind -m kind $(PYTEST_ARGS)

clean:  ## remove the venv and caches (not the control-plane build cache)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
