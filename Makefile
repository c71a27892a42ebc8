# The README's two commands are `make run` and `make test`; .ci/run calls `make test`.
PYTHON ?= python3

.PHONY: install run test lint bench golden

install:
	$(PYTHON) -m pip install --quiet -e ".[dev]"

# The service on its embedded SQLite default, with the sample records scored into an audit at
# start-up (once), and a fresh auditor key printed to read them with.
run: install
	$(PYTHON) -m auditor.cli keys create --role auditor --name "quick start"
	$(PYTHON) -m auditor.cli serve --samples sample_records/records.jsonl

test: install
	$(PYTHON) -m ruff check auditor api tests
	$(PYTHON) -m ruff format --check auditor api tests
	$(PYTHON) -m mypy auditor api
	$(PYTHON) -m pytest

bench: install
	$(PYTHON) -m auditor.cli bench

# Regenerate the golden file (the rules' findings) after a deliberate change; review
# `git diff tests/golden` before committing.
golden: install
	AUDITOR_MODEL=off $(PYTHON) -m auditor.cli check sample_records/records.jsonl --format jsonl --output tests/golden/records.expected.jsonl
