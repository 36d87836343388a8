# Two entry points, both self-installing: `make check` runs the weekly job once with the
# shipped config; `make test` runs lint and the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: check demo test lint browser bench clean

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

test: lint browser
	$(BIN)/python -m pytest -q

# The archive's browser test drives Debian's Chromium; install it where it is missing (as root,
# as on CI and the project's machines).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium chromium-driver >/dev/null)

# Not part of `make test`: times `watcher check` against urlwatch on local servers (a minute
# or so; installs urlwatch into bench/.venv, git-ignored, the first time).
bench: $(BIN)/.installed
	$(BIN)/python bench/check_vs_urlwatch.py

clean:
	rm -rf $(VENV) data .pytest_cache tests/telegram_emulator/node_modules test-artifacts
