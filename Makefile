# Two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast lint format bench screenshots browser clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## Start the app on http://127.0.0.1:$(PORT)
run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.address=127.0.0.1 --server.port=$(PORT)

## Chromium for the browser tests, from Debian's packages (needs root or sudo).
browser:
	@bash scripts/install_chromium.sh

## Lint (ruff, mypy), then the whole suite (lib, AppTest, safe loader, the browser journey).
test: lint browser
	$(PY) -m pytest -n 2 --dist loadfile

## The quick loop while working: lib, AppTest and safe-loader tests, without the browser
## tests and those marked slow (about a minute on 2 cores). `make test` runs everything.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -n 2 -m "not e2e and not slow"

## ruff (lint and format) on everything, mypy on lib/ (settings in pyproject.toml).
lint: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(VENV)/.dev
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

## Benchmarks: each prints ratios measured in one run.
bench: $(VENV)/.dev
	$(PY) bench/overhead.py --rounds 5
	$(PY) bench/safe_load.py
	$(PY) bench/worker.py
	$(PY) bench/table_reader.py
	$(PY) bench/profile_wide.py
	$(PY) bench/library.py

screenshots: $(VENV)/.dev browser
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
