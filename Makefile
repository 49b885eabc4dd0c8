# esa.s2p — every target installs what it needs on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTION_LINK := .build/collections/ansible_collections/esa/s2p
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help venv collection lab-install lab-up lab-status lab-down lab-clean run test lint sanity unit integration molecule bench reliability changelog ee-context

help:
	@echo "make run      install, bring the lab up, run playbooks/site.yml against inventories/lab"
	@echo "make test     install, bring the lab up, run lint, sanity, unit, integration and molecule"
	@echo "make bench    run the benchmarks in bench/ (not part of make test)"
	@echo "make reliability  site.yml killed with SIGKILL at 20 points, then converged (make test: 10)"
	@echo "make lab-up | lab-status | lab-down | lab-clean"

$(VENV)/.installed: requirements.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-test.txt
	touch $@

venv: $(VENV)/.installed collection

# ansible (and a bare `ansible-lint`) finds the collection through ansible.cfg's collections_path:
# the link is tracked in git (relative, so a fresh clone needs no make step); this target only
# restores it, e.g. after `rm -rf .build`.
collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn ../../../.. $(COLLECTION_LINK)

lab-install:
	$(PYTHON) lab/lab.py install

lab-up: venv
	$(BIN)/python lab/lab.py up

lab-status:
	$(PYTHON) lab/lab.py status

lab-down:
	$(PYTHON) lab/lab.py down

lab-clean:
	$(PYTHON) lab/lab.py clean

run: lab-up
	$(BIN)/ansible-playbook -i inventories/lab playbooks/site.yml

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

sanity: venv
	bash tests/sanity/run.sh

unit: venv
	$(BIN)/pytest -q tests/unit

integration: lab-up
	$(BIN)/pytest -q tests/integration

molecule: lab-up
	bash molecule/run.sh

test: lint sanity unit lab-up integration molecule
	@echo "make test: all suites passed"

bench: lab-up
	bash bench/run.sh

# The longer SIGKILL test of site.yml: all 20 kill points (make test runs the default 10).
# S2P_RELIABILITY_SEED=N repeats the offsets of an earlier run.
reliability: lab-up
	S2P_RELIABILITY_POINTS=all $(BIN)/pytest -q -s tests/integration/test_site_sigkill.py

changelog: venv
	$(BIN)/antsibull-changelog release

# The AWX execution environment's build context (offline; the image is built elsewhere).
ee-context: venv
	rm -rf .build/ee && mkdir -p .build/ee
	$(BIN)/ansible-galaxy collection build --force --output-path .build/ee .
	cp .build/ee/esa-s2p-*.tar.gz .build/ee/esa-s2p.tar.gz
	$(BIN)/ansible-builder create -f execution-environment.yml -c .build/ee/context --output-filename Containerfile
