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
.PHONY: help report figures test lab reset data bench lock clean browser

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

figures: $(STAMP) ## The paper run with its figures for print (PNG, SVG, 300-dpi PNG, PDF) into figures/
	$(BIN)/python -m analysis run --name paper --figures print

test: $(STAMP) browser ## Lint and run the full test suite (about 8 minutes on 2 cores)
	$(BIN)/ruff check .
	MA_ILD_BROWSER="$(BROWSER)" $(BIN)/python -m pytest
	@$(if $(BROWSER),true,echo "$(NO_BROWSER)")

# Jupyter refuses to start as root without --allow-root; classroom containers and shared
# servers often run as root, so it is passed (and said) when the user is root.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

# The report's robustness explorer is tested end to end in a real headless browser: an
# installed Chromium or Chrome (on PATH, or the macOS application). Nothing is installed here
# (that needs root and a package manager); without one, that test is skipped and said so.
BROWSER := $(shell for b in chromium chromium-browser google-chrome google-chrome-stable chrome; \
  do command -v $$b && exit; done; \
  for a in /Applications/Chromium.app/Contents/MacOS/Chromium \
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"; do [ -x "$$a" ] && echo "$$a" && exit; done)
NO_BROWSER := No Chromium or Chrome found, so the report explorer's browser test is skipped: \
install one (Debian/Ubuntu: sudo apt-get install chromium; Fedora: sudo dnf install chromium; \
macOS: brew install --cask chromium) and run make test again.

browser: ## Find the headless browser (Chromium or Chrome) of the explorer's end-to-end test
	@$(if $(BROWSER),echo "==> headless-browser test: $(BROWSER)",echo "$(NO_BROWSER)")

reset: $(STAMP) ## Class: bring runs/lab back to notebooks/lab-params.yaml in seconds (step cache)
	@$(BIN)/python -m analysis.teaching

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
