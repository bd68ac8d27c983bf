# The two commands of the README: `make demo` and `make test`. Both create .venv/ when needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip 2>/dev/null || true
	$(VENV)/bin/python -m pip install --quiet --progress-bar off -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	$(VENV)/bin/python -c "import reviewwatch, torch, scrapy, sqlalchemy" 
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/reviewwatch --config examples/demo.toml demo

# Two processes, each test file kept on one (module fixtures stay shared): TEST_WORKERS=0 for one.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# ruff, the layers contract (pyproject.toml [tool.importlinter]) and the types; CI runs it.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .demo .pytest_cache
