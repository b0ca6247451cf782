# FaceAtlas: `make run` serves the web app on the embedded atlas; `make test` runs every check.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
ATLAS ?= atlas
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest workers: the suite runs in two processes, one a core of the 2-core CI machine; an idle
# worker takes tests queued for the other (the slowest tests take 15 to 20 s each).
PYTEST_WORKERS ?= 2

.PHONY: install system-deps run test lint typecheck pytest clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml .ci/install-python
	PYTHON=$(PYTHON) .ci/install-python $(VENV) dev --editable
	# The face_recognition package is the measured baseline; its declared dlib dependency would
	# compile dlib from source, so it installs without dependencies beside dlib-bin.
	$(BIN)/python -m pip install -q --no-deps 'face_recognition==1.3.0' 'click>=8'
	touch $@

system-deps:
	.ci/system-deps

run: install
	$(BIN)/faceatlas serve --atlas $(ATLAS) --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install system-deps
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
