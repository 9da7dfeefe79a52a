# Thin wrappers over the CLI (python -m analysis). Each target sets up .venv itself,
# from the pinned versions in pyproject.toml and requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
KERNEL := ma-ild-analysis
PARAMS ?=
DATA ?=
# A variant run is named after its parameter file: PARAMS=variants/strict-ild.yaml -> runs/strict-ild
NAME ?= $(if $(PARAMS),$(basename $(notdir $(PARAMS))),paper)

.DEFAULT_GOAL := help
.PHONY: help report test lab data bench lock clean browser

help: ## Show this help
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml requirements.lock
	@echo "==> setting up $(VENV) (pinned versions; first time takes a minute or two)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "MA-ILD analysis" >/dev/null
	@touch $(STAMP)

report: $(STAMP) ## Build the report: runs/$(NAME)/report.html, .pdf, .docx (PARAMS=file.yaml, DATA=dir)
	$(BIN)/python -m analysis run --name $(NAME) $(if $(PARAMS),--params $(PARAMS)) $(if $(DATA),--data $(DATA))

test: $(STAMP) browser ## Lint and run the full test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

# Jupyter refuses to start as root without --allow-root; classroom containers and shared
# servers often run as root, so it is passed (and said) when the user is root.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

browser: ## Install Debian's chromium if missing (the robustness explorer's end-to-end test)
	@command -v chromium >/dev/null || { echo "==> installing chromium (Debian) for the headless-browser test"; \
	  apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

lab: $(STAMP) ## Open JupyterLab on the notebooks (parameters: notebooks/lab-params.yaml)
	$(if $(LAB_AS_ROOT),@echo "==> running as root: passing --allow-root to JupyterLab")
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_AS_ROOT)

data: $(STAMP) ## Regenerate the synthetic cohort in data/raw (seed 2017)
	$(BIN)/python -m analysis synth --seed 2017 --out data/raw

bench: $(STAMP) ## Time the computation and the pipeline; writes benchmarks/results.json
	$(BIN)/python benchmarks/run.py

lock: ## Re-pin transitive dependencies after changing pyproject.toml
	$(BIN)/python -m pip freeze --exclude-editable > requirements.lock

clean: ## Remove runs and the virtual environment
	rm -rf runs $(VENV)
