# `make demo` and `make test` work on a fresh machine with Python 3.11 and make.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@ $(VENV)/.installed-test

demo: $(VENV)/.installed
	$(BIN)/parity demo --out parity-demo

test: $(VENV)/.installed-test
	@scripts/ensure-chromium
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/two_sample.py
	$(BIN)/python benchmarks/two_sample.py --scale --scale-repeats 3
	-@test -f .venv-rliable/.installed || { $(PYTHON) -m venv .venv-rliable \
	  && .venv-rliable/bin/python -m pip install --quiet --upgrade pip \
	  && .venv-rliable/bin/python -m pip install --quiet 'rliable==1.2.0' 'pandas<3' \
	  && touch .venv-rliable/.installed; }
	$(BIN)/python benchmarks/bootstrap.py --rliable-python .venv-rliable/bin/python
	$(BIN)/python benchmarks/suite.py
	$(BIN)/python benchmarks/sensitivity.py
	$(BIN)/python benchmarks/power.py
	$(BIN)/python benchmarks/speed.py --two-sample --rliable-python .venv-rliable/bin/python

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

clean:
	rm -rf $(VENV) .venv-rliable parity-demo parity-report .pytest_cache .ruff_cache
