# Kauko: `make run` for the demo, `make test` for the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Where partners and patrons' links reach this server: the demo's ISO 18626 partners point
# at it, so it follows HOST and PORT unless set (a real deployment sets its public URL).
KAUKO_BASE_URL ?= http://$(HOST):$(PORT)
export KAUKO_BASE_URL

.PHONY: run test install lint migrate demo messages worker beat clean smoke

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Kauko needs Python 3.11 or newer (set PYTHON=python3.x).")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@echo "Serving Kauko on http://$(HOST):$(PORT)/ (log in with one of the logins above)"
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

test: lint
	$(PY) -m pytest

# Production smoke test (.ci/smoke.py): Kauko started as deploy/ says, on PostgreSQL and
# Redis at 127.0.0.1 (a separate database, kauko_smoke), one ISO 18626 request between two
# institutions, everything stopped. About two minutes.
smoke: install
	$(PY) .ci/smoke.py

# Recompile translations after editing locale/*/LC_MESSAGES/django.po (needs GNU gettext).
messages: install
	$(PY) manage.py makemessages -l fi -l sv --ignore '.venv/*' --ignore 'tests/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

worker: install
	$(VENV)/bin/celery -A config worker --loglevel INFO

beat: install
	$(VENV)/bin/celery -A config beat --loglevel INFO

clean:
	rm -rf $(VENV) db.sqlite3 var .pytest_cache
