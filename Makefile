# mediana — the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/debug/mediana
CLUSTER_DIR ?= $(CURDIR)/.controlplane/dev

.PHONY: all build demo test lint bench crds modules controlplane-up controlplane-down clean

all: build

build:
	$(CARGO) build --locked

## demo: the municipality → region → nation flow on a local cluster with a real node, in a
## browser at http://dati-regione-marche-it.localhost/ (as root; Enter stops it)
demo:
	examples/demo.sh

## test: every test (unit, against a real local control plane, helm), as CI runs it
test:
	tests/run.sh

## lint: formatting, clippy with warnings as errors, helm lint (helm built first when missing)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings
	@tests/controlplane/build.sh helm
	@eval "$$(tests/controlplane/build.sh --print)"; "$$HELM_DIR/helm" lint --strict charts/mediana

## bench: every benchmark (tests/bench/*.sh): N objects (default 500) against the kubectl
## baseline, N ReusableSolutions (default 100) on two spokes beside one cluster, and the
## harvester against rdflib and CKAN's package_create (and, with PEER_N=10000, against
## ckanext-harvest with ckanext-dcat's RDF harvester), and CatalogNodes serving on the real node
## against the same children by hand, and municipalities → region → nation on it (the demo's
## sources and 54 synthetic ones) against CKAN's package_create, and a node's backup to object
## storage and its restore (N=10000 datasets) against pg_dump, pg_restore and tar on local disk,
## and the country's harvest (16,547 HarvestJobs into 21 CatalogNodes on kwok);
## figures into docs/benchmarks.md. BENCH=catalognodes, reusable_solutions, remote_solutions,
## harvest, serving, chain, backup or national runs one.
BENCHES := catalognodes reusable_solutions remote_solutions harvest serving chain backup national
BENCH ?= $(BENCHES)
bench:
	@for b in $(BENCH); do \
	  [[ " $(BENCHES) " == *" $$b "* ]] || { echo "unknown BENCH=$$b: one of $(BENCHES)" >&2; exit 2; }; \
	  tests/bench/$$b.sh || exit 1; \
	done

## modules: the cycles among the library's modules (needs cargo-modules 0.27: tests/lint/module_cycles.sh)
modules:
	tests/lint/module_cycles.sh

## crds: regenerate crds/ and the chart's copy from the Rust types
crds:
	$(CARGO) run --quiet --locked -- crds --output-dir crds
	rm -f charts/mediana/crds/*.yaml && cp crds/*.yaml charts/mediana/crds/

## controlplane-up: start a local control plane with a real node (builds it the first time)
## for manual use, in the network namespace $(NETNS); prints how to use it
NETNS ?= mediana-dev
controlplane-up:
	@ip netns list | grep -qw '$(NETNS)' || ip netns add $(NETNS)
	@ip netns exec $(NETNS) ip link set lo up && nsenter --net=/run/netns/$(NETNS) tests/controlplane/cluster.sh up-node $(CLUSTER_DIR) >/dev/null
	@images/build.sh --all >/dev/null 2>&1 && nsenter --net=/run/netns/$(NETNS) tests/controlplane/node.sh load $(CLUSTER_DIR) >/dev/null || echo "(the operator image is not built: cargo build --release first to load it)"
	@echo "the cluster runs in the network namespace $(NETNS); use it with:"
	@echo "  nsenter --net=/run/netns/$(NETNS) env KUBECONFIG=$(CLUSTER_DIR)/kubeconfig bash"

## controlplane-down: stop it, with its node, and remove its network namespace
controlplane-down:
	nsenter --net=/run/netns/$(NETNS) tests/controlplane/cluster.sh down $(CLUSTER_DIR)
	ip netns del $(NETNS)

clean:
	$(CARGO) clean
	rm -rf .controlplane
