# Two entry points: `make run` (the whole study) and `make test` (the test suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MIRROR := $(wildcard ../shared/data)
MIRROR_ARG := $(if $(MIRROR),--config mirror=$(abspath $(MIRROR)),)
CORES ?= all
# Test workers (pytest-xdist): each takes whole test files, so module fixtures run once.
TEST_WORKERS ?= 2

.PHONY: run test lint bench setup setup-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test,slurm]'
	touch $@

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

run: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --cores $(CORES) --configfile config/config.yaml $(MIRROR_ARG)

test: setup-test
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# Benchmarks on this machine (BENCHMARKS.md): run it with nothing else running.
bench: setup
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/python benchmarks/run.py $(if $(MIRROR),--mirror $(abspath $(MIRROR)),) $(BENCH_ARGS)

lint: setup-test
	$(BIN)/ruff check src tests workflow benchmarks
	$(BIN)/ruff format --check src tests workflow benchmarks
	$(BIN)/snakefmt --check Snakefile workflow/rules
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/snakemake --lint --configfile config/config.yaml $(MIRROR_ARG)

clean:
	rm -rf results resources .snakemake
