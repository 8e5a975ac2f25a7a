# Two commands for users: `make demo` and `make test`. Everything else is set up on the way, once.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
SOLCJS := node_modules/.installed

.PHONY: demo test test-fast contracts lab benchmark check-wheels setup clean

demo: $(INSTALLED)
	$(VENV)/bin/dcai-lab demo

# One test process per CPU (pytest-xdist); tests that take minutes are spread by work stealing.
test: $(INSTALLED) $(SOLCJS)
	$(PY) -m pytest -n auto --dist worksteal

test-fast: $(INSTALLED) $(SOLCJS)
	$(PY) -m pytest -n auto --dist worksteal -m "not slow"

contracts: $(INSTALLED) $(SOLCJS)
	$(VENV)/bin/dcai-lab compile

benchmark: $(INSTALLED)
	$(PY) benchmarks/gas.py --json

lab: $(INSTALLED)
	$(VENV)/bin/jupyter lab notebooks/

# Do the required dependencies install from wheels alone on Linux x86_64, macOS arm64 and Windows amd64,
# Python 3.11-3.13? Asks PyPI (pip download: about 1.3 GB of wheels, 5 minutes); ARGS=--dry-run reads metadata only.
check-wheels: $(INSTALLED)
	$(PY) scripts/check_wheels.py $(ARGS)

setup: $(INSTALLED) $(SOLCJS)

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "dcai-lab needs Python 3.11 or newer: set PYTHON=python3.11 (or newer)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,notebook,fast]"
	touch $@

# solcjs compiles the contracts for the artifact check; users of the package need no compiler. The edr engine
# (backend "edr") lists Node 22, so npm would skip it on Node 20, where it runs: it is installed here, pinned,
# with the build for this machine (Linux x64; on others npm picks the build when Node is 22 or newer).
# Without it the edr backend says what to install, and py-evm still works.
EDR := @nomicfoundation/edr@0.22.0 $(if $(filter Linux-x86_64,$(shell uname -s)-$(shell uname -m)),@nomicfoundation/edr-linux-x64-gnu@0.22.0)
$(SOLCJS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node 20 (https://nodejs.org) to compile contracts"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@node -e 'require("./node_modules/@nomicfoundation/edr")' 2>/dev/null || \
		npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error $(EDR) || \
		echo "the edr engine could not be installed: backend \"edr\" is unavailable, py-evm works"
	touch $@

clean:
	rm -rf $(VENV) node_modules .pytest_cache
