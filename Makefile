# spineleaf.baremetal - entry points. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LAB := $(PYTHON) lab/labctl.py
LAB_STATE_DIR ?= $(CURDIR)/.lab/run
# The collection's version: galaxy.yml is the only place it is written.
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
EE_CONTEXT ?= .lab/ee/context
EE_TAG ?= spineleaf-baremetal-ee:$(VERSION)

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export OS_CLIENT_CONFIG_FILE ?= $(LAB_STATE_DIR)/clouds.yaml
export OS_CLOUD ?= spineleaf-lab

.PHONY: awx-collection ee-context ee-build chromium help venv demo test test-unit test-integration test-badinput test-faults test-sanity lint lab-up lab-down lab-status lab-reset bench build clean

help:
	@echo "make demo        - set up everything, start the lab, run playbooks/site.yml against it"
	@echo "make test        - the whole suite: unit, integration (own lab), ansible-test sanity, ansible-lint"
	@echo "make lab-up | lab-down | lab-status | lab-reset  (LAB_PROFILE=production: PostgreSQL, 2 API workers, 2 conductor groups)"
	@echo "make bench       - benchmarks against the lab (not part of make test)"

$(BIN)/.installed: requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

.collections/ansible_collections/spineleaf/baremetal:
	mkdir -p .collections/ansible_collections/spineleaf
	ln -sfn ../../.. .collections/ansible_collections/spineleaf/baremetal

# awx.awx (for playbooks/awx_configure.yml) taken out of the `ansible` 12.x package from the index,
# not all of `ansible` installed into the venv; collections/ is gitignored. ansible.cfg and
# ansible-lint find it through collections_path.
AWX_COLLECTION := collections/ansible_collections/awx/awx
$(AWX_COLLECTION)/MANIFEST.json: | $(BIN)/.installed
	rm -rf .lab/ansible-dl && mkdir -p .lab/ansible-dl collections/ansible_collections/awx
	$(BIN)/pip download -q --disable-pip-version-check --no-deps --dest .lab/ansible-dl 'ansible==12.*'
	cd .lab/ansible-dl && $(CURDIR)/$(BIN)/python -m zipfile -e ansible-*.whl unpacked
	rm -rf $(AWX_COLLECTION) && cp -r .lab/ansible-dl/unpacked/ansible_collections/awx/awx $(AWX_COLLECTION)
	rm -rf .lab/ansible-dl

awx-collection: $(AWX_COLLECTION)/MANIFEST.json

venv: $(BIN)/.installed .collections/ansible_collections/spineleaf/baremetal awx-collection

# LAB_SITE=<inventory dir> make lab-up: the lab ramdisk answers for the nodes of that inventory.
lab-up:
	$(LAB) up

lab-down:
	$(LAB) down

lab-status:
	$(LAB) status

lab-reset:
	$(LAB) reset

demo: venv lab-up
	$(BIN)/ansible-playbook playbooks/site.yml -i inventory/lab

test: venv chromium
	$(LAB) install
	$(MAKE) --no-print-directory test-unit test-integration
	# Each of these has a lab (or a copy of the tree) of its own: run side by side, output kept per target.
	$(MAKE) --no-print-directory -j3 --output-sync=target test-badinput test-faults test-sanity
	$(MAKE) --no-print-directory lint

# The topology picture test renders in a real headless browser (Debian package chromium).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

test-integration: venv
	# two workers, each with a lab of its own (tests/integration/conftest.py); a module stays on one worker.
	# --no-loadscope-reorder: files in collection order, the longest first (LONGEST_FIRST in that conftest),
	# not pytest-xdist's default (most tests first), which left the longest files for the end.
	$(BIN)/python -m pytest -q -n $${TEST_WORKERS:-2} --dist loadfile --no-loadscope-reorder --durations=15 tests/integration

# Bad-input corpus (#14): its own seeded lab on TEST_*_PORT + 300 (BADINPUT_*_PORT to move it).
test-badinput: venv
	$(BIN)/python -m pytest -q tests/badinput

# Fault injection (#14): its own lab on TEST_*_PORT + 400 (FAULTS_*_PORT to move it), SIGKILLed and
# restarted by the tests; FAULTS_NODES / FAULTS_RACK_NODES / FAULTS_RACKS make the cases bigger.
test-faults: venv
	$(BIN)/python -m pytest -q -p no:xdist tests/faults

test-sanity: venv
	PYTHON=$(CURDIR)/$(BIN)/python bash tests/sanity/run.sh

lint: venv
	$(BIN)/ansible-lint --offline -q
	$(BIN)/antsibull-changelog lint

bench: venv
	$(LAB) install
	$(BIN)/python bench/run.py  # each benchmark starts its own fresh lab on ports 16485/19796

# The tarball, also under a name without the version for execution-environment.yml.
build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .lab/build
	cp .lab/build/spineleaf-baremetal-$(VERSION).tar.gz .lab/build/spineleaf-baremetal.tar.gz

# Build context for the execution environment (execution-environment.yml); building the image
# itself (ee-build) needs podman or docker.
ee-context: build
	$(BIN)/ansible-builder create -f execution-environment.yml -c $(EE_CONTEXT) --output-filename Containerfile

ee-build: build
	$(BIN)/ansible-builder build -f execution-environment.yml -c $(EE_CONTEXT) -t $(EE_TAG)

clean:
	rm -rf .lab/build tests/output .pytest_cache
