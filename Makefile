# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SCENARIO ?= scenarios/baseline.yaml
DEMO_OUT ?= outputs/demo

# First interpreter on PATH that is Python >= 3.12 (Mesa 3.5 needs it).
FIND_PYTHON := for p in python3.13 python3.12 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	command -v $$p; break; fi; done

.PHONY: venv demo test benchmark docs patterns dashboard notebook notebooks clean

$(VENV)/.installed: pyproject.toml
	@PYTHON=$$($(FIND_PYTHON)); \
	if [ -z "$$PYTHON" ]; then echo "error: recruitsim needs Python >= 3.12 (none of python3.13, python3.12, python3, python on PATH is); install one and retry" >&2; exit 1; fi; \
	echo "using $$PYTHON ($$($$PYTHON --version))"; \
	[ -x $(PY) ] || $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,dashboard]'
	@touch $@

venv: $(VENV)/.installed

demo: venv
	rm -rf $(DEMO_OUT)
	$(VENV)/bin/recruitsim run $(SCENARIO) --out $(DEMO_OUT)
	@echo "outputs in $(DEMO_OUT)/ (figure: $(DEMO_OUT)/composition.png)"

# the suite over every core (pytest-xdist), then the browser test alone: it times play, so it
# must not share the machine with other tests (exit status 5 = it skipped at import, saying why)
TEST_WORKERS ?= auto
test: venv
	$(PY) -m pytest -W error -q -n $(TEST_WORKERS) --dist worksteal -m "not browser"
	$(PY) -m pytest -W error -q tests/test_dashboard_browser.py || [ $$? -eq 5 ]

benchmark: venv
	$(PY) benchmarks/run_benchmark.py

dashboard: venv
	$(VENV)/bin/recruitsim dashboard

# JupyterLab on notebooks/ (from the dev extra)
notebook: venv
	$(VENV)/bin/jupyter lab notebooks/

# re-render the notebooks' stored outputs after a change of the model or of a notebook
notebooks: venv
	$(PY) notebooks/render.py

docs: venv
	$(VENV)/bin/recruitsim schema --markdown > docs/scenarios.md

# the pattern report of the baseline into docs/: 30 seeds (ten cannot tell central from random
# arrests, nor give stationarity's equivalence test the power to pass a flat baseline: its 90%
# interval is about ±4%/year wide over ten seeds, against a ±5% band; ODD 8.8), the intervention
# patterns paired with the same 30; each key parameter at x0.5 and x1.5 over 3 seeds, to name
# what each pattern is sensitive to;
# the runs stay in runs/patterns-docs, so a rerun after an interruption resumes
PATTERN_WORKERS ?= 2
patterns: venv
	$(VENV)/bin/recruitsim patterns baseline --seeds 30 --intervention-seeds 30 --sensitivity --workers $(PATTERN_WORKERS) --out runs/patterns-docs
	cp runs/patterns-docs/patterns.md docs/patterns.md.tmp && mv docs/patterns.md.tmp docs/patterns.md
	cp runs/patterns-docs/patterns.html docs/patterns.html.tmp && mv docs/patterns.html.tmp docs/patterns.html

clean:
	rm -rf $(VENV) outputs runs .pytest_cache
