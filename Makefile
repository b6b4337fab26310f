# The front door (DESIGN.md §6). `make run` serves the demo; `make test` runs lint + the suite;
# `make bench` measures (README « Mesurer les performances »).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1:8000
# pytest processes (pytest-xdist): one per core; JOBS=0 runs the suite in one process.
JOBS   ?= auto
# make bench: SCALE (default 20 on PostgreSQL, 2 on SQLite), BENCH_DB (auto, postgresql or
# sqlite), BENCH_FRESH=1 (drop the bench database first: the volume is loaded once),
# BENCH_ARGS (more options of python -m tests.bench.run, e.g. --skip load).
SCALE       ?=
BENCH_DB    ?= auto
BENCH_FRESH ?=
BENCH_ARGS  ?=
BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: help install run test lint messages plurals migrate demo clean bench prod-smoke

help:
	@echo "make run   - installe, migre, charge la démo et sert http://$(HOST)/"
	@echo "make test  - installe ce qui manque, puis lint et toute la suite de tests"
	@echo "make bench - mesure les performances (PostgreSQL si présent), résultats dans var/bench/"
	@echo "make prod-smoke - la production en vrai (PostgreSQL, Redis, S3 local, 2 gunicorn, worker, beat)"

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev]"
	mkdir -p var
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python manage.py compilemessages --ignore=.venv -v 0

# The French catalogue: the code's plural messages, for French's rule « 0 inscription »
# (config/french_plurals.py). Run it after adding or changing a plural message; a test says so.
plurals: install
	$(BIN)/python manage.py makemessages -l fr --no-location --ignore=var --ignore=tests \
	  --ignore=static/vendor --ignore=node_modules -v 0
	$(BIN)/python -m config.french_plurals locale/fr/LC_MESSAGES/django.po
	$(MAKE) messages

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
	$(BIN)/python -m pytest -n $(JOBS)

# The bench's own tools (locust, gunicorn), installed only for it.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -c requirements.lock -e ".[dev,bench]"
	touch $(BENCH_STAMP)

# Its own database (PostgreSQL uimm_bench, else var/bench.sqlite3), loaded with the demo and
# the volume data (seed_demo --scale: nothing to do when already there), vacuumed and analysed
# as autovacuum would have done on a database in service, then the measures.
bench: $(BENCH_STAMP) messages
	mkdir -p var/bench
	$(BIN)/python -m tests.bench.environment --db "$(BENCH_DB)" --scale "$(SCALE)" \
	  $(if $(BENCH_FRESH),--fresh) > var/bench/env.sh
	set -e; . var/bench/env.sh; \
	echo "== Banc sur $$BENCH_VENDOR, SCALE=$$SCALE, broker: $${CELERY_BROKER_URL:-aucun} =="; \
	DEBUG=1 $(BIN)/python manage.py migrate --noinput -v 0; \
	DEBUG=1 CELERY_BROKER_URL= $(BIN)/python manage.py seed_demo --scale "$$SCALE" \
	  > var/bench/seed.log; \
	tail -n 12 var/bench/seed.log; \
	$(BIN)/python manage.py shell -v 0 -c "from django.db import connection; \
	  connection.vendor == 'postgresql' and connection.cursor().execute('VACUUM ANALYZE')"; \
	$(BIN)/python manage.py collectstatic --noinput -v 0; \
	$(BIN)/python -m tests.bench.run --out var/bench --scale "$$SCALE" $(BENCH_ARGS)

# The production process model (issue 11 §1), through the entrypoints of deploy/, on this
# machine's PostgreSQL and Redis (DBs 12 and 13) with moto's S3 server: tests/prod_smoke/run.py.
prod-smoke: install
	./deploy/system-deps.sh run
	$(BIN)/python -m tests.prod_smoke.run

clean:
	rm -rf $(VENV) var/staticfiles .pytest_cache
