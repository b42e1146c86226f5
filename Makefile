# Two commands on a fresh machine (Python 3.11+ and make): `make run` and `make test`.
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint env clean

run: env
	$(VENV)/bin/portal migrate
	$(VENV)/bin/portal demo
	$(VENV)/bin/portal serve

test: env
	$(VENV)/bin/pytest -n 2

lint: env
	$(VENV)/bin/ruff check portal tests bench
	$(VENV)/bin/ruff format --check portal tests bench
	$(VENV)/bin/mypy

env: $(VENV)/.synced

# uv installs exactly what uv.lock pins; it is itself pinned and installed from PyPI.
$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

clean:
	rm -rf $(TOOLS) $(VENV) .pytest_cache .mypy_cache .ruff_cache
