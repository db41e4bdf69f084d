# arcttt: every target works from a fresh clone; `make install` runs first where needed.
# TORCH picks the torch build: the default is the CPU wheel this project's machines carry;
# on a CUDA machine use e.g. `make TORCH=torch install` (or a pinned CUDA build).
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN ?= runs/sample

.PHONY: install test test-fast smoke solve leaderboard clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile setup.py $(wildcard arcttt/programs/csrc/*)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch is named with the package so that pip resolves both at once and never swaps in
	# a multi-GB CUDA build of torch on a CPU machine.
	$(BIN)/python -m pip install --quiet "$(TORCH)" -e '.[dev]'
	touch $(STAMP)

# What CI runs: every test (the slow one loads the real embedded model), then the cpu-smoke
# leaderboard suite, which fails on any pipeline error (never on low accuracy).
test: install
	$(BIN)/python -m pytest -q
	$(MAKE) smoke

smoke: install
	rm -rf runs/smoke
	$(BIN)/arcttt leaderboard run --suite cpu-smoke --config configs/ci-smoke.toml \
		--results runs/smoke/results.jsonl --runs runs/smoke --fail-on-error
	$(BIN)/arcttt leaderboard show --results runs/smoke/results.jsonl

# The quick loop: skips the tests that load the real embedded model.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

# Solve the sample tasks in data/sample with the default solver (program search, then TTT of the
# embedded model where no candidate is trusted), as the README describes; then score them.
solve: install
	$(BIN)/arcttt solve data/sample --out $(RUN)/predictions.json --overwrite
	$(BIN)/arcttt score $(RUN)/predictions.json --solutions data/sample

# Append records for SUITE under each of CONFIGS to leaderboard/results.jsonl, render LEADERBOARD.md.
SUITE ?= cpu-smoke
CONFIGS ?= configs/cpu-icl.toml configs/cpu-ttt.toml
leaderboard: install
	$(BIN)/arcttt leaderboard run --suite $(SUITE) $(foreach c,$(CONFIGS),--config $(c))
	$(BIN)/arcttt leaderboard show --baseline cpu-icl --markdown LEADERBOARD.md --plot leaderboard/accuracy-vs-time.png

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis runs
