# Two commands a newcomer needs:  `make run`  and  `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test lint bench bench-scale clean

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "tutorbot needs Python 3.11 or newer; try: make $(MAKECMDGOALS) PYTHON=python3.11"; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras, so `make run` and `make test` each install what they need once.
$(VENV)/.stamp-%: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e ".[$(subst +,$(comma),$*)]"
	touch $@

comma := ,

run: $(VENV)/.stamp-worker+demo
	$(VENV)/bin/tutorbot

test: $(VENV)/.stamp-dev+worker
	$(VENV)/bin/ruff check bot cogs tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/tutorbot questions check questions
	@# verify (one core) runs beside pytest (mostly one core, much of it waiting on servers
	@# and timers); its report follows the tests'. Either failing fails the target.
	@$(VENV)/bin/tutorbot questions verify questions --jobs 1 > .verify.log 2>&1 & verify=$$!; \
	  $(PY) -m pytest -q; tests=$$?; \
	  wait $$verify; verified=$$?; cat .verify.log; rm -f .verify.log; \
	  test $$tests -eq 0 -a $$verified -eq 0

bench: $(VENV)/.stamp-dev+worker
	$(PY) bench/answers.py
	$(PY) bench/leaderboard.py
	$(PY) bench/weekly.py
	$(PY) bench/stats.py
	$(PY) bench/export.py
	$(PY) bench/study.py
	$(PY) bench/schedules.py
	$(PY) bench/clicks.py
	$(PY) bench/explain.py
	$(PY) bench/sweep.py

# What needs PostgreSQL and Redis: throwaway servers on loopback, as in CI (.ci/services).
bench-scale: $(VENV)/.stamp-dev+worker
	@bash -c 'source .ci/services && trap services_stop EXIT && services_start && \
	  $(PY) bench/answers.py && $(PY) bench/queue_jobs.py'

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
