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

# Two hosts on one machine for the distributed-mode test (network namespaces, a veth pair).
SYSTEM_PACKAGES += ip:iproute2 nsenter:util-linux

.PHONY: help demo benchmark-packages loadtest loadtest-packages loadtest-results plan dashboards test lint format venv system-packages db-start db-stop drain rules benchmarks clean

help:
	@echo "make demo | make test | make loadtest TEST=N | make drain | make plan | make benchmarks"

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
	@# requirements.txt installs the instrumentation package as Heroku does; here it is made
	@# editable, so a change under metrics/dyno_metrics/ needs no reinstall.
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

venv: $(STAMP)

# $(call install-missing,COMMAND:PACKAGE ...): installs the Debian packages whose commands are
# missing, as root with apt-get; otherwise (or when that fails) prints the one command that does.
define install-missing
	@missing=""; for pair in $(1); do \
		command -v $${pair%%:*} >/dev/null 2>&1 || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
				|| echo "could not install them; run: sudo apt-get install -y$$missing"; \
		else \
			echo "missing commands; install them with: sudo apt-get install -y$$missing"; \
		fi; \
	fi
endef

system-packages:
	$(call install-missing,$(SYSTEM_PACKAGES))

# What a load test's set-up drives: Prometheus (the alerts), Chromium (the report's screenshot)
# and, for a local run, PgBouncer for test 4b and Redis for test 9.
LOADTEST_PACKAGES := prometheus:prometheus chromium:chromium \
	$(if $(HOST),,$(if $(filter 4b,$(TEST)),pgbouncer:pgbouncer) $(if $(filter 9,$(TEST)),redis-server:redis-server))

loadtest-packages:
	$(call install-missing,$(LOADTEST_PACKAGES))

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: venv system-packages lint
	$(VENV)/bin/pytest

dashboards: venv
	$(PY) -m dashboards.build

# make rules [RUNBOOK_BASE_URL=https://...] [APP_JOBS='app|my-app'] (metrics/alerting/README.md)
rules: venv
	$(PY) -m metrics.alerting.build

db-start: venv
	$(PY) -m app.embedded_db start

db-stop: venv
	$(PY) -m app.embedded_db stop

# The seed's test 5 at demo scale (1,000 users for a minute): everything started is stopped.
demo: venv
	$(PY) -m loadtests demo

# $(call shell-quote,TEXT): TEXT as one shell word, any ' in it kept (a regular expression).
shell-quote = '$(subst ','\'',$(1))'

# make loadtest TEST=N [SCALE=F] [DURATION=S] [HOST=URL [DRAIN=URL]] [GRAFANA=1] [DYNO_CPU=CORES]
#               [SCENARIO_FILE=FILE] [PATHS='/ /about/=2'] [METHOD=M] [HEADER='Name: value']
#               [EXPECT_STATUS=N] [EXPECT_BODY=REGEX] [ROUTER=2.0|legacy]
# (one HEADER here; several, in a scenario file)
loadtest: venv loadtest-packages
	@test -n "$(TEST)" || { echo "error: say which test, e.g. make loadtest TEST=5"; exit 2; }
	$(PY) -m loadtests run --test "$(TEST)" $(if $(SCALE),--scale $(SCALE)) \
		$(if $(DURATION),--duration $(DURATION)) $(if $(HOST),--host $(HOST)) \
		$(if $(GRAFANA),--grafana) $(if $(DYNO_CPU),--dyno-cpu $(DYNO_CPU)) \
		$(if $(DRAIN),--drain $(DRAIN)) $(if $(SCENARIO_FILE),--scenario-file "$(SCENARIO_FILE)") \
		$(foreach path,$(PATHS),--path '$(path)') $(if $(METHOD),--method $(METHOD)) \
		$(if $(HEADER),--header $(call shell-quote,$(HEADER))) \
		$(if $(EXPECT_STATUS),--expect-status $(EXPECT_STATUS)) \
		$(if $(EXPECT_BODY),--expect-body $(call shell-quote,$(EXPECT_BODY))) \
		$(if $(ROUTER),--router $(ROUTER))

# Reruns the comparison set and rewrites the results table in loadtests/README.md.
loadtest-results: venv
	$(PY) -m loadtests results

# make plan DYNOS=N THREADS=N [WORKERS=N] [LIMIT=N] [TARGET_RPM=N] [REDIS_LIMIT=N]
plan: venv
	@test -n "$(DYNOS)" -a -n "$(THREADS)" || { echo "error: make plan DYNOS=N THREADS=N [WORKERS=N] [LIMIT=N] [TARGET_RPM=N] [REDIS_LIMIT=N]"; exit 2; }
	$(PY) -m loadtests.plan --dynos "$(DYNOS)" --threads "$(THREADS)" \
		$(if $(WORKERS),--workers $(WORKERS)) $(if $(LIMIT),--limit $(LIMIT)) \
		$(if $(TARGET_RPM),--target-rpm $(TARGET_RPM)) $(if $(REDIS_LIMIT),--redis-limit $(REDIS_LIMIT))

drain: venv
	$(PY) -m metrics.drain $(if $(PORT),--port $(PORT)) $(if $(LISTEN),--host $(LISTEN))

# The load generator that is not the bottleneck (metrics_overhead), Redis for the page cache's.
BENCHMARK_PACKAGES := wrk:wrk redis-server:redis-server

benchmark-packages:
	$(call install-missing,$(BENCHMARK_PACKAGES))

benchmarks: venv benchmark-packages
	$(PY) -m benchmarks.seed_data
	$(PY) -m benchmarks.page_latency
	$(PY) -m benchmarks.page_cache
	$(PY) -m benchmarks.metrics_overhead
	$(PY) -m benchmarks.metrics_overhead --server gunicorn
	$(PY) -m benchmarks.drain_throughput
	$(PY) -m benchmarks.loadtest_capacity
	$(PY) -m benchmarks.overload

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
