# Two commands for a new user: `make reproduce` and `make test` (see README.md); `make book` renders
# the last reproduction or the published edition without training.
# Both create the virtual environment .venv from pyproject.toml on first use.

PROFILE ?= quick
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# The first Python 3.11+ on PATH (python3 may be older on macOS).
PYTHON  ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: reproduce test book lab env clean

env: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (none found on PATH); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[test]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## Execute every notebook with papermill (PROFILE=smoke|quick|study|paper) and build the book.
reproduce: $(STAMP)
	$(BIN)/python -m musiclib reproduce --profile $(PROFILE)

## Run the test suite.
test: $(STAMP)
	$(BIN)/python -m pytest

## Build the HTML book from the last `make reproduce`, else from the published edition (book/edition/):
## no training, no notebook execution.
book: $(STAMP)
	$(BIN)/python -m musiclib book

## JupyterLab on the notebooks, with ipywidgets and the project's kernel: JUPYTER_PATH puts the
## venv's python3 kernel ahead of any user-wide one. Relative paths in the notebooks' parameters
## cells resolve against the repository root (musiclib.paths), as under papermill.
lab: $(STAMP)
	JUPYTER_PATH="$(abspath $(VENV))/share/jupyter" $(BIN)/jupyter lab --notebook-dir=notebooks

clean:
	rm -rf $(VENV) _build book/executed book/pages .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
