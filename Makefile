# `make run`: set up and start the platform with demo data on the embedded defaults.
# `make test`: set up and run the test suite (SQLite unless DATABASE_URL / REDIS_URL are set).
# `make screenshots`: regenerate docs/screenshots/ (the README's tour).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test e2e screenshots setup static lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch node_modules/.installed

setup: $(STAMP) node_modules/.installed

# The demo shows billing (plans, the Billing page); OCTOPUSHX_BILLING=0 make run hides it.
run: setup
	$(BIN)/octopushx demo
	OCTOPUSHX_BILLING=$${OCTOPUSHX_BILLING:-1} $(BIN)/octopushx serve --host $(HOST) --port $(PORT)

test: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/bandit -q -r src -lll
	OCTOPUSHX_TESTING=1 $(BIN)/pytest -n 2 --ignore=tests/e2e --durations=25

e2e: setup
	OCTOPUSHX_TESTING=1 $(BIN)/pytest tests/e2e -p no:xdist --durations=15

# Photographs of the main pages at 1440x900 and 390x844 into docs/screenshots/ (demo data, temporary folder).
screenshots: setup
	$(BIN)/python scripts/screenshots.py

lint: setup
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

clean:
	rm -rf $(VENV) node_modules var
