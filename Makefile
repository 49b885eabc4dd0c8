# esa.s2p — every target installs what it needs on a fresh Debian machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTION_LINK := .build/collections/ansible_collections/esa/s2p
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help install venv collection lab-install lab-up lab-status lab-down lab-clean awx-up awx-status awx-down \
	integration-awx run test test-quick lint sanity unit \
	compat compat-venvs integration integration-run integration-smoke molecule molecule-run bench reliability changelog \
	ee ee-test

help:
	@echo "make run      install, bring the lab up, run playbooks/site.yml against inventories/lab"
	@echo "make test     install, bring the lab up, run lint, sanity, unit, integration, molecule and compat"
	@echo "make test-quick  lint, sanity, unit and the smoke subset of integration (minutes, from a warm lab)"
	@echo "make compat   unit and sanity with every other ansible-core version meta/runtime.yml claims (2.20)"
	@echo "make bench    run the benchmarks in bench/ (not part of make test)"
	@echo "make reliability  site.yml killed with SIGKILL at 20 points, then converged (make test: 10)"
	@echo "make lab-up | lab-status | lab-down | lab-clean"
	@echo "make awx-up | awx-status | awx-down   the lab AWX (optional; docs/awx.md)"

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

# Everything the suites need from Debian and PyPI, apt and pip at the same time
# (ShellCheck for ansible-test sanity; the lab's packages).
install:
	$(MAKE) --no-print-directory -j2 venv lab-install
	@command -v shellcheck >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	  -o DPkg::Lock::Timeout=300 --no-install-recommends shellcheck >/dev/null

lab-up: venv
	$(BIN)/python lab/lab.py up

lab-status:
	$(PYTHON) lab/lab.py status

lab-down:
	$(PYTHON) lab/lab.py down

lab-clean:
	$(PYTHON) lab/lab.py clean

# The lab AWX (docs/awx.md): not part of lab-up; the first start on a machine takes ~8 min.
awx-up:
	$(PYTHON) lab/lab.py up awx

awx-status:
	$(PYTHON) lab/lab.py status awx

awx-down:
	$(PYTHON) lab/lab.py down awx

run: lab-up
	$(BIN)/ansible-playbook -i inventories/lab playbooks/site.yml

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-docs lint-collection-docs --plugin-docs .

sanity: venv
	bash tests/sanity/run.sh
	S2P_SANITY_TREE=1 bash tests/sanity/run.sh

unit: venv
	$(BIN)/pytest -q tests/unit

# Every ansible-core version meta/runtime.yml claims is tested: 2.19 in .venv (the targets above)
# and each of COMPAT_CORES in a virtualenv of its own, .venv-core<version>, made like .venv (pip,
# the bounds of tests/compat/requirements-core<version>.txt) on the Python that version needs,
# COMPAT_PYTHON_<version>: pyenv's newest build of it (the machine image has 3.8 to 3.13), else
# python<X.Y> on PATH (tests/compat/find_python.py). `make compat` runs the unit tests and
# ansible-test sanity with each; `make test` runs it beside integration (tests/stages.py).
COMPAT_CORES := 2.20
COMPAT_PYTHON_2.20 := 3.12
COMPAT_VENVS := $(COMPAT_CORES:%=.venv-core%/.installed)

.venv-core%/.installed: tests/compat/requirements-core%.txt requirements.txt
	@test -x $(@D)/bin/python || { python=$$($(PYTHON) tests/compat/find_python.py $(COMPAT_PYTHON_$*)) \
	  && echo "$$python -m venv $(@D)" && $$python -m venv $(@D); }
	$(@D)/bin/pip install -q --disable-pip-version-check -r $<
	touch $@

compat-venvs: $(COMPAT_VENVS)

compat: compat-venvs collection
	bash tests/compat/run.sh $(COMPAT_CORES)

# Integration tests: first those that must run alone (marker `serial`, with the reason), then
# the rest in parallel (pytest-xdist, S2P_TEST_WORKERS processes; tests sharing an expensive
# module fixture are grouped with xdist_group). The worker count was chosen by measurement
# (README.md, Testing). PYTEST_ARGS adds options, e.g. PYTEST_ARGS='-k dns'.
S2P_TEST_WORKERS ?= 6
PYTEST_ARGS ?=
# Any object a run leaves in the shared lab fails it (tests/integration/leftovers_report.py);
# a bare pytest run defaults to the milder check that suits a lab shared with other runs.
export S2P_LEFTOVER_CHECK ?= strict
INTEGRATION := $(BIN)/pytest -q tests/integration -p no:cacheprovider --durations=25 $(PYTEST_ARGS)

integration: lab-up
	@$(MAKE) --no-print-directory integration-run

integration-run: venv
	$(INTEGRATION) -m "serial and not awx and not ee" -p no:xdist --junitxml=.build/integration-serial.xml
	$(INTEGRATION) -m "not serial and not awx and not ee" -n $(S2P_TEST_WORKERS) --dist loadgroup \
	  --junitxml=.build/integration-parallel.xml

# The lab AWX's tests (marker awx), after `make awx-up` and `make lab-up` (its jobs run on dockerd).
# They run beside the integration stage in `make test`, so the strict leftover check (which counts
# every new object of the lab) would count the integration tests' objects: the milder one here.
integration-awx: venv
	S2P_LEFTOVER_CHECK=1 $(INTEGRATION) -m awx -p no:xdist --junitxml=.build/integration-awx.xml

# The inner loop's subset (marker `smoke`): every backend and playbook family once, quickly.
integration-smoke: venv
	$(INTEGRATION) -m "smoke and not serial and not awx and not ee" -n $(S2P_TEST_WORKERS) --dist loadgroup

molecule: lab-up
	@$(MAKE) --no-print-directory molecule-run

molecule-run: venv
	bash molecule/run.sh

# The stages of the full suite, several at a time (tests/stages.py), with a table of their
# seconds at the end. .ci/run calls this.
test:
	$(PYTHON) tests/stages.py
	@echo "make test: all suites passed"

# lint, sanity, unit and the smoke subset of integration, for the inner loop (lab warm).
test-quick:
	$(PYTHON) tests/stages.py --quick
	@echo "make test-quick: all passed"

bench: lab-up
	bash bench/run.sh

# The longer SIGKILL test of site.yml: all 20 kill points (make test runs the default 10).
# S2P_RELIABILITY_SEED=N repeats the offsets of an earlier run.
reliability: lab-up
	S2P_RELIABILITY_POINTS=all $(BIN)/pytest -q -s tests/integration/test_site_sigkill.py

changelog: venv
	$(BIN)/antsibull-changelog release

# The AWX execution environment on the lab's dockerd (lab/ee_build.py): s2p/ee:<galaxy.yml version>
# and s2p/ee:latest on the lab's base image s2p/ee-base:bookworm, built only when an input changed
# (the image's label records their hash). EE_BASE_IMAGE=<ref@sha256:...> builds on another base.
ee: venv
	$(PYTHON) lab/lab.py up dockerd
	$(BIN)/python lab/ee_build.py

# The image's tests (tests/integration/test_awx_execution_environment.py: the lab's preflight run
# inside it, a test image without hvac failing clearly). `make test` runs them in the stage `ee`,
# beside integration, which leaves them out (marker `ee`). They create no backend object; the
# milder leftover check, because integration's objects come and go on the same lab meanwhile.
ee-test: ee
	S2P_LEFTOVER_CHECK=1 $(BIN)/pytest -q tests/integration -m ee -p no:cacheprovider --durations=5 $(PYTEST_ARGS)
