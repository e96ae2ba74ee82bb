# spineleaf.baremetal - entry points. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LAB := $(PYTHON) lab/labctl.py
LAB_STATE_DIR ?= $(CURDIR)/.lab/run

export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export OS_CLIENT_CONFIG_FILE ?= $(LAB_STATE_DIR)/clouds.yaml
export OS_CLOUD ?= spineleaf-lab

.PHONY: chromium help venv demo test test-unit test-integration test-badinput test-sanity lint lab-up lab-down lab-status lab-reset bench build clean

help:
	@echo "make demo        - set up everything, start the lab, run playbooks/site.yml against it"
	@echo "make test        - the whole suite: unit, integration (own lab), ansible-test sanity, ansible-lint"
	@echo "make lab-up | lab-down | lab-status | lab-reset"
	@echo "make bench       - benchmarks against the lab (not part of make test)"

$(BIN)/.installed: requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

.collections/ansible_collections/spineleaf/baremetal:
	mkdir -p .collections/ansible_collections/spineleaf
	ln -sfn ../../.. .collections/ansible_collections/spineleaf/baremetal

venv: $(BIN)/.installed .collections/ansible_collections/spineleaf/baremetal

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
	$(MAKE) --no-print-directory test-unit test-integration test-badinput test-sanity lint

# The topology picture test renders in a real headless browser (Debian package chromium).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit

test-integration: venv
	$(BIN)/python -m pytest -q tests/integration

# Bad-input corpus (#14): its own seeded lab on TEST_*_PORT + 200 (BADINPUT_*_PORT to move it).
test-badinput: venv
	$(BIN)/python -m pytest -q tests/badinput

test-sanity: venv
	PYTHON=$(CURDIR)/$(BIN)/python bash tests/sanity/run.sh

lint: venv
	$(BIN)/ansible-lint --offline -q

bench: venv
	$(LAB) install
	$(BIN)/python bench/run.py  # each benchmark starts its own fresh lab on ports 16485/19796

build: venv
	$(BIN)/ansible-galaxy collection build --force --output-path .lab/build

clean:
	rm -rf .lab/build tests/output .pytest_cache
