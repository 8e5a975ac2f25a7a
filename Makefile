# Two commands for users: `make demo` and `make test`. Everything else is set up on the way, once.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SOLCJS := node_modules/.installed

.PHONY: demo test test-fast contracts lab benchmark setup clean

demo: $(INSTALLED)
	$(VENV)/bin/dcai-lab demo

test: $(INSTALLED) $(SOLCJS)
	$(PY) -m pytest

test-fast: $(INSTALLED) $(SOLCJS)
	$(PY) -m pytest -m "not slow"

contracts: $(INSTALLED) $(SOLCJS)
	$(VENV)/bin/dcai-lab compile

benchmark: $(INSTALLED)
	$(PY) benchmarks/gas.py --json

lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab notebooks/

setup: $(INSTALLED) $(SOLCJS)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dcai-lab needs Python 3.11 or newer: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# solcjs compiles the contracts for the artifact check; users of the package need no compiler.
$(SOLCJS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node 20 (https://nodejs.org) to compile contracts"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache
