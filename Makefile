# Every target sets itself up: a virtual environment in .venv, the package with its dev extras, and the data.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.normbook-installed

.PHONY: demo test test-gpu docs readme export clean-nbs system

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv .venv
	@echo "normbook: installing into .venv (first run takes a few minutes)"
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -e ".[dev]"
	@touch $(STAMP)

system:
	@bash tools/setup_system.sh --browser

demo: $(STAMP)
	@bash tools/setup_system.sh
	@$(PY) -m normbook.demo

# each notebook in a fresh process; all but nbs/01_fast.ipynb run with NORMBOOK_COMPILE=0 (see tools/run_tests.py)
test: $(STAMP) system
	@$(PY) tools/run_tests.py

# every check that needs a CUDA device, written to gpu_report.md; without CUDA it says so and exits 0
test-gpu: $(STAMP)
	@if $(PY) -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then bash tools/setup_system.sh; fi
	@$(PY) tools/test_gpu.py --out gpu_report.md

docs: $(STAMP)
	@$(PY) tools/build_docs.py

readme: $(STAMP)
	@$(PY) tools/build_docs.py --readme

export: $(STAMP)
	@.venv/bin/nbdev-clean && .venv/bin/nbdev-export
