# arcttt: `make test` and `make install` work from a fresh clone.
# TORCH picks the torch build: the default is the CPU wheel this project's machines carry;
# for a CUDA machine use e.g. `make TORCH=torch install` (or a pinned CUDA build).
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-all clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is named with the package so that pip resolves both at once and never swaps in
	# a multi-GB CUDA build of torch on a CPU machine.
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e '.[dev]'
	touch $(STAMP)

test: install
	$(BIN)/python -m pytest -q

# The slow tests run the real embedded model (minutes on a CPU).
test-all: install
	$(BIN)/python -m pytest -q -m ''

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
