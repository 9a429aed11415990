# The README's two commands: `make run` and `make test`. Everything else is a step they need.
PY        ?= python3.11
VENV      := .venv
BIN       := $(VENV)/bin
FLASK     := $(BIN)/flask --app wsgi
HOST      ?= 127.0.0.1
PORT      ?= 5000
# pytest-xdist workers; `make test PYTEST_ARGS="-n 0 -k x"` runs serially (the last -n wins).
TEST_WORKERS ?= 2

.PHONY: run test install install-test debian-run debian-test static translations db demo clean

run: debian-run install static translations db demo
	@$(FLASK) demo-logins --host $(HOST) --port $(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

# Tests that start processes or servers share the xdist group "serial" (one worker runs them).
test: debian-test install-test static translations
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# Debian packages: installed when missing if run as root, else the apt-get line is printed.
debian-run:
	@bash scripts/debian_packages.sh run
debian-test:
	@bash scripts/debian_packages.sh test

$(BIN)/python:
	$(PY) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps make a second `make run` skip installs whose inputs did not change.
$(VENV)/.stamp-req: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.stamp-test: requirements-test.txt $(VENV)/.stamp-req
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.stamp-req
install-test: $(VENV)/.stamp-test

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --silent

static: node_modules/.package-lock.json
	$(BIN)/python scripts/build_static.py

translations: install
	$(BIN)/pybabel compile --use-fuzzy -d translations -D messages --statistics 2>&1 | tail -1

db: install
	$(FLASK) db upgrade

demo: db
	$(FLASK) seed-demo --scale small --if-empty

clean:
	rm -rf $(VENV) node_modules static/dist instance
