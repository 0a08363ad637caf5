# scaling-study: the front door. Every target sets itself up; setup is skipped when nothing changed.
#   make sweep                       run the default experiment, then write its report
#   make sweep EXPERIMENT=experiments/course.yaml
#   RAY_ADDRESS=127.0.0.1:6379 make sweep EXPERIMENT=experiments/smoke.yaml   (an existing cluster)
#   make test                        the whole test suite (real Ray, real Tune, kept small)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXPERIMENT ?= experiments/frozenlake.yaml
RESULTS ?=
SWEEP_FLAGS ?=
PYTEST_FLAGS ?=

.PHONY: setup sweep smoke analyze calibrate test lint bench browser clean cluster-up cluster-down

setup: $(STAMP)

# torch is pinned to the CPU build (2.13.0); an unpinned torch would pull a CUDA build of several GB.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

sweep: setup
	$(BIN)/scaling-study sweep $(EXPERIMENT) $(SWEEP_FLAGS)

smoke: setup
	$(BIN)/scaling-study sweep experiments/smoke.yaml $(SWEEP_FLAGS)

# make analyze                 the most recent experiment under results/
# make analyze RESULTS=results/frozenlake
analyze: setup
	$(BIN)/scaling-study analyze $(or $(RESULTS),$(shell ls -td results/*/ 2>/dev/null | grep -v '\.replaced-' | head -n 1),results/NONE)

calibrate: setup
	$(BIN)/scaling-study calibrate

# A real 3-node Ray cluster on this machine (head + 2 workers, token authentication on); see cluster/README.md.
#   make cluster-up                  prints the RAY_ADDRESS to use with make sweep
#   make cluster-up CLUSTER_FLAGS="--cpus 2"   logical CPUs per worker node (more than the cores: oversubscribed)
#   make cluster-down                stops exactly the processes cluster-up started
CLUSTER_FLAGS ?=
cluster-up: setup
	$(BIN)/python cluster/local.py up $(CLUSTER_FLAGS)

cluster-down:
	$(BIN)/python cluster/local.py down

# The report test renders report.html in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

# Ray 2.60 listens on every interface and has no setting to keep to loopback, so where it can (root,
# unshare and ip present) the suite runs in a network namespace of its own whose only interface is
# loopback: whatever a test starts is then reachable from this machine alone.
test: setup browser
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then \
	  echo "running the tests in a loopback-only network namespace"; \
	  unshare -n sh -c 'ip link set lo up && exec $(BIN)/python -m pytest $(PYTEST_FLAGS)'; \
	else $(BIN)/python -m pytest $(PYTEST_FLAGS); fi

lint: setup
	$(BIN)/ruff check src tests bench cluster examples

bench: setup
	$(BIN)/python -m bench $(BENCH_FLAGS)

# Removes the environment and generated reports; results/ (your measurements) is kept.
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
	find analysis -mindepth 1 -maxdepth 1 -type d ! -name example -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
