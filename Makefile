# The front door (DESIGN.md §6). `make run` serves the demo; `make test` runs lint + the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1:8000

.PHONY: help install run test lint messages migrate demo clean

help:
	@echo "make run   - installe, migre, charge la démo et sert http://$(HOST)/"
	@echo "make test  - installe ce qui manque, puis lint et toute la suite de tests"

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	mkdir -p var
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

migrate: install
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput -v 0

demo: migrate
	$(BIN)/python manage.py seed_demo

run:
	./deploy/system-deps.sh run
	$(MAKE) messages demo
	$(BIN)/python manage.py runserver $(HOST)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py makemigrations --check --dry-run -v 0

test:
	./deploy/system-deps.sh test
	$(MAKE) messages lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
