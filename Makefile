# Quick start: `make run` runs the bot, `make test` runs the tests. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install ocr run test lint format bench lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ocr

# Scans and photos of directives are read by Tesseract with its Vietnamese data (Debian packages). Installed
# when missing and we are root with apt; otherwise the bot says scans cannot be read here, and never fails the build.
ocr:
	@tesseract --list-langs 2>/dev/null | grep -qx vie || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-vie) \
	      >/dev/null 2>&1 || echo "could not install tesseract-ocr tesseract-ocr-vie: scans will not be read"; \
	  else echo "tesseract-ocr and tesseract-ocr-vie are not installed: scans will not be read (see docs/deploy.md)"; fi; }

run: install
	$(BIN)/chibo run

# The suite runs in parallel (pytest-xdist): its tests mostly wait on the bot, the fakes and the database, so more
# workers than cores pay. Each worker has its own PostgreSQL database, ports and LibreOffice profile
# (tests/conftest.py). `make test TEST_WORKERS=0` runs it in one process; `pytest tests/test_x.py` is never parallel.
TEST_WORKERS ?= 4

test: lint ocr
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist worksteal

# The layering (import-linter contracts in pyproject.toml) and the types are checked, not hoped for.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
