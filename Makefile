# Two entry points, both self-installing: `make check` runs the weekly job once with the
# shipped config; `make test` runs lint and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: check demo test lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

check: $(BIN)/.installed
	$(BIN)/watcher check

demo: $(BIN)/.installed
	$(BIN)/watcher demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) data .pytest_cache tests/telegram_emulator/node_modules
