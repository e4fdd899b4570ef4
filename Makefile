# tacit: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Re-install when pyproject.toml changes.
SUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUN_DEPS := $(VENV)/.run-$(SUM)
TEST_DEPS := $(VENV)/.test-$(SUM)

.PHONY: run test test-all bench bench-scale lint install clean

run: $(RUN_DEPS)
	$(VENV)/bin/tacit start

# `make test` leaves out the tests marked `long` (multi-process fault and scale-out runs of a
# minute or more each) and runs on two workers (pytest-xdist) so that CI stays under 20
# minutes; `make test-all` runs everything, one test at a time.
test: $(TEST_DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -n 2 -m "not long"

test-all: $(TEST_DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(TEST_DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m bench

# Two shard processes and two workers on PostgreSQL (TACIT_BENCH_POSTGRES_URL) and Chroma.
bench-scale: $(TEST_DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m bench scale

lint: $(TEST_DEPS)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

install: $(RUN_DEPS)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first, pinned: that release is a CPU build on this machine; an unpinned one is a
# multi-GB CUDA download.
$(RUN_DEPS): pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	rm -f $(VENV)/.run-*
	touch $@

# The test extra adds llama-cpp-python, which compiles llama.cpp the first time (about 6
# minutes on 2 cores; pip caches the wheel afterwards), and the benchmarks' LangChain baselines.
$(TEST_DEPS): $(RUN_DEPS)
	$(PIP) install -q -e '.[test,bench]'
	rm -f $(VENV)/.test-*
	touch $@

clean:
	rm -rf $(VENV) data .pytest_cache
