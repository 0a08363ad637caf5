# scaling-study: the front door. `make` alone lists every target and variable. Every target sets itself
# up: `sweep` and `analyze` install the runtime packages only, `test` and `lint` add the test tools; an
# install is skipped until pyproject.toml changes.
#   make sweep EXPERIMENT=experiments/course.yaml
#   RAY_ADDRESS=127.0.0.1:6379 make sweep EXPERIMENT=experiments/smoke.yaml   (an existing cluster)

## PYTHON: the Python that creates .venv (3.10-3.12; default: python3.11, else python3)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
## EXPERIMENT: the experiment file `make sweep` runs (default: experiments/frozenlake.yaml)
EXPERIMENT ?= experiments/frozenlake.yaml
## SWEEP_FLAGS: extra flags for `scaling-study sweep`, e.g. --restart, --num-cpus 3, --verbose
SWEEP_FLAGS ?=
## RESULTS: the Tune directory `make analyze` reads (default: the newest under results/)
RESULTS ?=
## PYTEST_FLAGS: extra pytest flags for `make test`, e.g. -m "not ray", -k progress
PYTEST_FLAGS ?=
## BENCH_FLAGS: extra flags for `make bench`, e.g. --quick
BENCH_FLAGS ?=
## CLUSTER_FLAGS: extra flags for `make cluster-up`, e.g. --cpus 2
CLUSTER_FLAGS ?=
## TORCH_INDEX: a pip index to take torch from, e.g. https://download.pytorch.org/whl/cpu (Linux: the
##   CPU build, a 190 MB download, where PyPI's torch is the CUDA build of several GB; default: pip's own index)
TORCH_INDEX ?=

VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
# The torch requirement as pyproject.toml pins it (a version pin alone does not select the CPU build).
TORCH_PIN := $(shell sed -n 's/^ *"\(torch==[^"]*\)".*/\1/p' pyproject.toml)

.DEFAULT_GOAL := help
.PHONY: help setup sweep smoke analyze calibrate test lint mutate bench browser clean cluster-up cluster-down

help: ## this list
	@echo "make TARGET [VARIABLE=value ...]   (README.md: the two commands to start with)"
	@echo
	@echo "Targets:"
	@awk -F':.*## ' '/^[a-z-]+:.*## /{printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables:"
	@awk '/^## [A-Z_]+: /{sub(/^## /, ""); split($$0, kv, ": "); printf "  %-13s %s\n", kv[1], substr($$0, length(kv[1]) + 3); next} \
	      /^##   /{sub(/^## */, ""); printf "  %-13s %s\n", "", $$0}' $(MAKEFILE_LIST)
	@echo "  RAY_ADDRESS   (environment) a running Ray cluster to join instead of starting a local Ray"

setup: $(DEV) ## create .venv with everything: the runtime packages and the test tools

$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(strip $(TORCH_INDEX)),$(PIP) --index-url $(strip $(TORCH_INDEX)) '$(TORCH_PIN)')
	$(PIP) -e .
	touch $@

$(DEV): $(RUNTIME)
	$(PIP) -e '.[dev]'
	touch $@

sweep: $(RUNTIME) ## run EXPERIMENT as a Tune sweep, then write reports/NAME/report.html
	$(BIN)/scaling-study sweep $(EXPERIMENT) $(SWEEP_FLAGS)

smoke: $(RUNTIME) ## run experiments/smoke.yaml: does everything work here? (under 2 minutes)
	$(BIN)/scaling-study sweep experiments/smoke.yaml $(SWEEP_FLAGS)

analyze: $(RUNTIME) ## write the report of RESULTS (default: the newest under results/)
	@results='$(or $(RESULTS),$(shell ls -td results/*/ 2>/dev/null | grep -v '\.replaced-' | head -n 1))'; \
	if [ -z "$$results" ]; then echo "make analyze: nothing under results/ yet; run make sweep first, or pass RESULTS=DIR" >&2; exit 2; fi; \
	echo "$(BIN)/scaling-study analyze $$results"; $(BIN)/scaling-study analyze "$$results"

calibrate: $(RUNTIME) ## raw env steps/s on one core of each node (the physical limit)
	$(BIN)/scaling-study calibrate

# A real 3-node Ray cluster on this machine (head + 2 workers, token authentication on); see cluster/README.md.
#   make cluster-up                  prints the RAY_ADDRESS to use with make sweep
#   make cluster-up CLUSTER_FLAGS="--cpus 2"   logical CPUs per worker node (more than the cores: oversubscribed)
#   make cluster-down                stops exactly the processes cluster-up started
cluster-up: $(RUNTIME) ## a real 3-node Ray cluster on this machine (Linux; CLUSTER_FLAGS)
	$(BIN)/python cluster/local.py up $(CLUSTER_FLAGS)

cluster-down: ## stop exactly the processes cluster-up started
	$(BIN)/python cluster/local.py down

# The report test renders report.html in headless Chromium (Debian's package).
browser: ## install Debian's chromium for the report test (as root)
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "make test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

# Ray 2.60 listens on every interface and has no setting to keep to loopback, so where it can (root,
# unshare and ip present) the suite runs in a network namespace of its own whose only interface is
# loopback: whatever a test starts is then reachable from this machine alone.
test: $(DEV) browser ## every test: real Ray, real Tune, kept small (14-15 minutes on a fresh clone, install included; PYTEST_FLAGS)
	@if [ "$$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then \
	  echo "running the tests in a loopback-only network namespace"; \
	  unshare -n sh -c 'ip link set lo up && exec $(BIN)/python -m pytest $(PYTEST_FLAGS)'; \
	else $(BIN)/python -m pytest $(PYTEST_FLAGS); fi

lint: $(DEV) ## ruff over src, tests, bench, cluster and examples
	$(BIN)/ruff check src tests bench cluster examples

# Mutation check of the pure core (core/stats, model, cores, settings, tune_files, layout) with mutmut,
# against the tests that need no Ray ([tool.mutmut] in pyproject.toml); mutmut keeps its results in
# mutants/ and re-runs only what changed. The survivors are listed in RELIABILITY.md section 7.
mutate: $(DEV) ## mutation check of the pure core against the tests without Ray (mutmut; last line: killed K of N)
	@mkdir -p mutants
	@echo "mutmut run (log: mutants/run.log) ..."
	@nice -n 10 $(BIN)/mutmut run --max-children 2 > mutants/run.log 2>&1 || { tail -c 3000 mutants/run.log; exit 1; }
	@$(BIN)/mutmut export-cicd-stats > /dev/null
	@$(BIN)/mutmut results
	@$(BIN)/python -c "import json; s = json.load(open('mutants/mutmut-cicd-stats.json')); \
	  print(f\"killed {s['killed'] + s['timeout']} of {s['total']} mutants\")"

bench: $(RUNTIME) ## measure and rewrite BENCHMARKS.md (35 minutes on 2 cores at bb57e30; BENCH_FLAGS=--quick)
	$(BIN)/python -m bench $(BENCH_FLAGS)

# Removes the environment and generated reports; results/ (your measurements) is kept.
clean: ## remove .venv and generated reports; keeps results/ (your measurements)
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
	find reports -mindepth 1 -maxdepth 1 -type d ! -name example -exec rm -rf {} +
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
