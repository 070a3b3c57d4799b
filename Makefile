# The two commands a fresh machine needs (only Python 3.11+ installed):
#   make up    -- install into .venv on first use, then run the whole platform locally
#   make test  -- install into .venv on first use, then run the test suite on real servers
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up down status test lint lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

up: $(STAMP)
	$(BIN)/aether up

down: $(STAMP)
	$(BIN)/aether down

status: $(STAMP)
	$(BIN)/aether status

# -n auto: a worker per core, each with servers of its own (tests/conftest.py says how many);
# loadfile keeps a module's tests, and its module-scoped servers, on one worker.
test: $(STAMP)
	$(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests tools
	$(BIN)/ruff format --check src tests tools
	$(BIN)/mypy
	$(BIN)/lint-imports

# Re-resolve the pinned versions after changing dependency ranges in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^aether' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage
