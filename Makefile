# tacit: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Re-install when pyproject.toml changes.
DEPS := $(VENV)/.deps-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test bench lint install clean

run: $(DEPS)
	$(VENV)/bin/tacit start

test: $(DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q

bench: $(DEPS)
	HF_HUB_OFFLINE=1 $(PY) -m bench

lint: $(DEPS)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

install: $(DEPS)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# torch first, pinned: that release is a CPU build on this machine; an unpinned one is a
# multi-GB CUDA download.
$(DEPS): pyproject.toml | $(PY)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[test,bench]'
	rm -f $(VENV)/.deps-*
	touch $@

clean:
	rm -rf $(VENV) data .pytest_cache
