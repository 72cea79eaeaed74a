# make install: create .venv with the pinned package and its test extras.
# make dev:     start SecantusDB, the demo replay server and dagster dev on 127.0.0.1:3000.
# make test:    validate the Dagster definitions and run the whole test suite.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install dev test bench clean-data

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# make dev PORT=3001 serves the UI on another port.
PORT ?= 3000

dev: $(STAMP)
	$(BIN)/fixture-assets dev --port $(PORT)

test: $(STAMP)
	$(BIN)/dagster definitions validate -w workspace.yaml
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks.poll_tick --json benchmarks/results/poll_tick.json

clean-data:
	rm -rf .data
