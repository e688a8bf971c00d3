# Two commands for a new user: `make reproduce` and `make test` (see README.md); `make book` renders
# the last reproduction or the published edition without training.
# Both create the virtual environment $(VENV) on first use, from this platform's lock file
# (every package pinned, with hashes), else from pyproject.toml's ranges.

PROFILE ?= quick
VENV    ?= .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
# This platform's lock, named by `uname -s` and `uname -m` (musiclib.book.machine.lock_path): for
# Python $(LOCK_PYTHON) and later 3.11 releases. `make lock` writes one per platform in LOCK_TARGETS
# (lock name = uv's --python-platform).
LOCK         := requirements/$(shell uname -s | tr '[:upper:]' '[:lower:]')-$(shell uname -m).lock
LOCK_PYTHON  := 3.11.5
LOCK_TARGETS := linux-x86_64=x86_64-unknown-linux-gnu darwin-arm64=aarch64-apple-darwin
# The first Python 3.11+ on PATH, 3.11 (the locks' Python) first; python3 may be older on macOS.
PYTHON  ?= $(shell for p in python3.11 python3.12 python3.13 python3; do \
             command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: reproduce test test-avx2 book lab env lock clean

env: $(STAMP)

$(STAMP): pyproject.toml $(wildcard $(LOCK))
	@test -n "$(PYTHON)" || { echo "error: Python 3.11 or newer is needed (none found on PATH); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
ifneq ($(wildcard $(LOCK)),)
	$(BIN)/python -m pip install --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --no-deps -e .
else
	@echo "note: no lock for this platform ($(LOCK)): installing the newest versions pyproject.toml allows"
	$(BIN)/python -m pip install -e '.[test]'
endif
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## Rewrite the locks with uv from pyproject.toml (the test extra included) and the versions of the
## published edition (requirements/published.txt). uv keeps the versions of an existing lock where
## they still fit; `make lock UV_FLAGS=--upgrade` moves everything else to the newest release.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install uv
	for target in $(LOCK_TARGETS); do \
	  $(BIN)/uv pip compile pyproject.toml --extra test -c requirements/published.txt --generate-hashes $(UV_FLAGS) \
	    --python-version $(LOCK_PYTHON) --python-platform $${target#*=} -o requirements/$${target%%=*}.lock || exit 1; \
	done

## Execute every notebook with papermill (PROFILE=smoke|quick|study|paper) and build the book.
reproduce: $(STAMP)
	$(BIN)/python -m musiclib reproduce --profile $(PROFILE)

## Run the test suite.
test: $(STAMP)
	$(BIN)/python -m pytest

## The tests of training and the grid again, as a process on an AVX2-only CPU sees them, on a machine
## with AVX-512 (tools/avx2_only.py: Linux on x86-64 with CPUID faulting, and a C compiler).
test-avx2: $(STAMP)
	$(BIN)/python tools/avx2_only.py $(BIN)/python -m pytest tests/models tests/experiments tests/test_avx2_only.py

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
