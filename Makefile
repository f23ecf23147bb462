# Two commands for a newcomer: `make demo` and `make test`. Each builds what it needs from
# nothing (a .venv with the pinned dependencies, plus bubblewrap for the grading sandbox when
# this machine lets us install it) and is safe to run again.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup venv-python demo test test-quick release clean-venv

# A .venv made by another Python is removed first; a second make then sees it gone and rebuilds it.
setup: venv-python
	@$(MAKE) --no-print-directory $(STAMP)

venv-python:
	@sh scripts/check-venv.sh $(VENV) $(PYTHON)

$(STAMP): pyproject.toml constraints.txt scripts/install-system-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@sh scripts/install-system-deps.sh
	@touch $(STAMP)

demo: setup
	$(BIN)/python -m autograder.demo

# Two pytest workers, each taking whole test files (a file's batch fixture is graded once, on one
# worker). The grading batches inside the tests start kernels of their own, so the two workers
# overlap one test's waiting on kernels with another's computing.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The quick loop while changing code: everything but the tests that grade whole notebooks.
test-quick: setup
	$(BIN)/python -m pytest -n 2 -m "not slow"

release: setup
	$(BIN)/autograder release

clean-venv:
	rm -rf $(VENV)
