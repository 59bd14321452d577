# The two commands: `make run` (console on http://HOST:PORT, by default 127.0.0.1:8000; SQLite,
# built-in upstream, a local registry at 127.0.0.1:5000)
# and `make test` (the whole suite on a throwaway PostgreSQL). See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench bench-admin bench-http bench-reminders clean catalogs messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Local settings for `make run`, made once so keys (and so credentials) survive restarts.
# The default registry is a local one (docs/REGISTRY.md starts it), not Huawei's, where these
# credentials cannot work; the setting's own default stays Huawei's, for production.
.env:
	@printf 'DEBUG=true\nSWR_DEFAULT_REGISTRY_ADDRESS=127.0.0.1:5000\nSECRET_KEY=%s\nCREDENTIAL_HASH_KEY=%s\nACCESS_KEY_ENCRYPTION_KEYS=%s\n' \
	  "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	  "$$($(PYTHON) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')" > .env
	@echo "Wrote .env with fresh keys (DEBUG=true, SQLite under var/, registry 127.0.0.1:5000)."

# The translation catalogs, compiled in pure Python (no gettext needed): locale/*/LC_MESSAGES/*.mo
# are build artefacts, made again whenever their .po changed.
catalogs: $(VENV)/.runtime
	$(BIN)/python -m swrconsole.translations

# After marking new strings: extract them into the catalogs (needs GNU gettext), then translate
# every new or fuzzy entry (tests/test_translations.py fails until each is).
messages: $(VENV)/.runtime
	$(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --add-location file \
	  --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'var/*'

run: $(VENV)/.runtime .env catalogs
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py bootstrap
	$(BIN)/python manage.py create_registry_token_keys
	$(BIN)/python manage.py registry_setup --console-url http://$(HOST):$(PORT)
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.dev catalogs
	scripts/test.sh $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .ruff_cache

# Benchmarks (not tests): see bench/README.md. Each starts its own throwaway PostgreSQL.
bench-admin: $(VENV)/.dev
	scripts/with-postgres.sh $(BIN)/python bench/admin_bench.py $(BENCH_ARGS)

bench-http: $(VENV)/.dev
	@command -v wrk >/dev/null || (echo "Installing wrk"; apt-get install -y -qq wrk)
	scripts/with-postgres.sh $(BIN)/python bench/http_bench.py $(BENCH_ARGS)

bench-reminders: $(VENV)/.dev
	scripts/with-postgres.sh $(BIN)/python bench/reminders_bench.py $(BENCH_ARGS)

bench: bench-admin bench-http
