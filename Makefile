# The project's commands. `make demo` and `make test` need nothing but Python 3.11+:
# they create .venv and install what they need (and, for the tests, the Debian packages
# listed in SYSTEM_PACKAGES when missing and this machine can install them).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Binaries the tests drive for real, and the Debian packages that provide them.
SYSTEM_PACKAGES := prometheus:prometheus amtool:prometheus-alertmanager \
	chromium:chromium docker-compose:docker-compose pgbouncer:pgbouncer redis-server:redis-server

.PHONY: help demo test lint format venv system-packages db-start db-stop drain rules benchmarks clean

help:
	@echo "make demo | make test | make loadtest TEST=N | make drain | make plan | make benchmarks"

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP)

system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
		command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		else \
			echo "missing commands; install the Debian packages:$$missing"; \
		fi; \
	fi

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv system-packages lint
	$(VENV)/bin/pytest

rules: venv
	$(PY) -m metrics.alerting.build

db-start: venv
	$(PY) -m app.embedded_db start

db-stop: venv
	$(PY) -m app.embedded_db stop

demo: venv
	$(PY) -m app.demo

drain: venv
	$(PY) -m metrics.drain $(if $(PORT),--port $(PORT)) $(if $(LISTEN),--host $(LISTEN))

benchmarks: venv
	$(PY) -m benchmarks.seed_data
	$(PY) -m benchmarks.page_latency
	$(PY) -m benchmarks.metrics_overhead

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
