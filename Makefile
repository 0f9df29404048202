# splitopt — every target creates .venv and installs what it needs first.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# where make test's strict docs build goes (removed after the check)
DOCS_CHECK := .docs-check

.PHONY: setup demo test lint bench paper verify docs docs-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

setup: $(STAMP)

## demo: solve the shipped demo scenario with the DPs and the baselines
demo: setup
	$(BIN)/splitopt solve instances/demo/scenario.json \
	    --solver dp,dp-grid,greedy,greedy-ratio,best-cut,server-only

## test: the import-layer contracts, the type checker, a strict docs build, the whole suite,
## then the numba kernels again with the JIT off
test: setup
	$(BIN)/lint-imports
	$(BIN)/mypy
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(DOCS_CHECK)
	rm -rf $(DOCS_CHECK)
	$(BIN)/python -c "from splitopt.solvers.kernels import warm_up; warm_up()"
	$(BIN)/python -m pytest -q
	NUMBA_DISABLE_JIT=1 $(BIN)/python -m pytest -q -m nojit -p no:cacheprovider

lint: setup
	$(BIN)/ruff check splitopt tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy

## bench: micro-benchmarks (not part of make test)
bench: setup
	$(BIN)/python -m pytest benchmarks -q --benchmark-columns=min,median,max,rounds \
	    --benchmark-sort=name

## paper: regenerate every result, table and figure (--quick sizes), then the PDF if LaTeX is installed
paper: setup
	$(MAKE) -C paper PY=$(abspath $(BIN)/python)

## docs: build the documentation site into site/ (strict: broken links and failing
## directives are errors); docs-serve: serve it at http://127.0.0.1:8000
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-serve: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve

verify: setup
	$(BIN)/splitopt verify --n 10000 --seed 7

clean:
	rm -rf $(VENV) site $(DOCS_CHECK) .pytest_cache .hypothesis .benchmarks .grimp_cache .import_linter_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
