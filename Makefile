# Two commands for a newcomer: `make demo` and `make test`. Each creates .venv on first
# use: the demo installs the core and the extras it uses (excel, reports); the tests
# install everything (the dev extra). A .venv made by another Python is rebuilt.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_STAMP := $(VENV)/.installed-demo
DEV_STAMP := $(VENV)/.installed-dev
WANT := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
HAVE := $(shell test -x $(BIN)/python && $(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

.PHONY: demo test lint docs bench clean venv-python test-python fuzz

# A .venv from another Python (or a broken one) is removed before anything is installed.
venv-python:
	@if [ -d $(VENV) ] && [ "$(HAVE)" != "$(WANT)" ]; then \
	  echo "$(VENV) was made with Python $(or $(HAVE),unknown), not $(WANT): rebuilding it"; \
	  rm -rf $(VENV); \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)

$(DEMO_STAMP): pyproject.toml constraints.txt | venv-python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[excel,reports]'
	touch $(DEMO_STAMP)

$(DEV_STAMP): pyproject.toml constraints.txt constraints-dev.txt | venv-python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -c constraints-dev.txt -e '.[dev]'
	touch $(DEV_STAMP) $(DEMO_STAMP)

DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): pyproject.toml constraints.txt constraints-dev.txt | venv-python
	@$(MAKE) --no-print-directory $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -c constraints-dev.txt -e '.[docs]'
	touch $(DOCS_STAMP)

demo: venv-python
	@$(MAKE) --no-print-directory $(DEMO_STAMP)
	$(BIN)/itvrules demo --out out/demo

test: venv-python
	@$(MAKE) --no-print-directory $(DEV_STAMP)
	$(BIN)/python -m pytest

# The suite on another Python in its own .venv-X.Y, e.g. `make test-python VERSION=3.13`
# (CI runs 3.13 this way; pyenv's interpreters are found when not on the PATH).
test-python:
	@test -n "$(VERSION)" || { echo "say which Python: make test-python VERSION=3.13"; exit 2; }
	@interpreter="$$(command -v python$(VERSION) 2>/dev/null)"; \
	if ! "$$interpreter" -V >/dev/null 2>&1; then \
	  interpreter="$$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(VERSION)*/bin/python$(VERSION) 2>/dev/null | sort -V | tail -n 1)"; \
	fi; \
	if ! "$$interpreter" -V >/dev/null 2>&1; then echo "Python $(VERSION) is not installed here"; exit 2; fi; \
	$(MAKE) --no-print-directory test VENV=.venv-$(VERSION) PYTHON="$$interpreter"

# The fuzz suite at length for release checks: tests/fuzz with the deep hypothesis profile
# (5,000 examples a test). `make test` runs the same tests with fewer examples.
fuzz: venv-python
	@$(MAKE) --no-print-directory $(DEV_STAMP)
	ITVRULES_HYPOTHESIS_PROFILE=deep $(BIN)/python -m pytest tests/fuzz

lint: venv-python
	@$(MAKE) --no-print-directory $(DEV_STAMP)
	$(BIN)/ruff check src adapters tests benchmarks examples
	$(BIN)/mypy

# The documentation site, docs/ into site/: a broken link or a docstring the
# reference cannot read fails the build (mkdocs.yml sets strict).
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

bench: venv-python
	@$(MAKE) --no-print-directory $(DEV_STAMP)
	$(BIN)/python benchmarks/bench_decisions.py

clean:
	rm -rf $(VENV) .venv-3.* site .pytest_cache .mypy_cache .ruff_cache .hypothesis dist build
