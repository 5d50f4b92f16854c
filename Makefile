# Quick start on a fresh clone (Python 3.11+, git, make):  make repro   then   make test
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
INSTALLED := $(VENV)/.installed

# Stage commands in dvc.yaml run `python -m pipeline.<stage>`: that must be the project's Python.
export PATH := $(BIN):$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := true

.PHONY: setup repro lint test test-labelstudio browser analyze-example ui serve tracking-server bench \
	bench-transfer bench-public bench-real bench-levers bench-active

setup: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0] if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[test,embeddings,spark]"
	@touch $@

# DVC clears a stage's outputs before running it; if a stage fails or is interrupted, the last good ones
# are put back (pipeline/repro.py).
repro: setup  ## train, evaluate and log to MLflow, then print the test metrics
	@python -m pipeline.repro
	dvc metrics show reports/eval/metrics.json

lint: setup  ## ruff (pyflakes, import order, pyupgrade, bugbear), configured in pyproject.toml
	ruff check pipeline tests bench

test: lint browser  ## lint, then unit, data and model-behaviour tests, then the end-to-end pipeline test
	python -m pytest

# Label Studio in a venv of its own (its dependency tree is not the project's), pinned in the requirements.
LABELSTUDIO_VENV := .venv-labelstudio
LABELSTUDIO_REQUIREMENTS := tests/labelstudio/requirements.txt

$(LABELSTUDIO_VENV)/.installed: $(LABELSTUDIO_REQUIREMENTS)
	$(PYTHON) -m venv $(LABELSTUDIO_VENV)
	$(LABELSTUDIO_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(LABELSTUDIO_REQUIREMENTS)
	@touch $@

test-labelstudio: setup $(LABELSTUDIO_VENV)/.installed  ## opt-in: stance sample -> the real Label Studio -> stance import
	LABEL_STUDIO_VENV=$(abspath $(LABELSTUDIO_VENV)) python -m pytest -m labelstudio tests/labelstudio

# The report test opens report.html in a real headless Chromium (Debian's package; playwright drives it and
# downloads nothing). Installed when missing and this user may; otherwise that one test is skipped.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
		|| { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
		     && { apt-get install -y -q chromium >/dev/null 2>&1 \
		          || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }; } \
		|| echo "note: no Chromium, and it cannot be installed here: the report's browser test will be skipped"

models/stance_model.skops: | setup
	@python -m pipeline.repro

analyze-example: models/stance_model.skops  ## who stands where in examples/collection -> example-analysis/report.html
	stance analyze examples/collection --actors examples/collection/actors.yaml -o example-analysis

ui: setup  ## MLflow UI on http://127.0.0.1:5000
	@echo "Runs with their headline metrics: http://127.0.0.1:5000/#/experiments/1/runs?viewStateShareKey=headline"
	mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000

serve: setup  ## REST endpoint of the champion model on http://127.0.0.1:5001/invocations (labels and probabilities)
	MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///mlflow.db} mlflow models serve -m models:/stance-classifier@champion \
		--env-manager local --host 127.0.0.1 --port 5001

tracking-server: setup  ## a shared MLflow tracking server on http://127.0.0.1:5002, its store in tracking-server/
	@mkdir -p tracking-server
	mlflow server --backend-store-uri sqlite:///tracking-server/mlflow.db \
		--artifacts-destination tracking-server/artifacts --host 127.0.0.1 --port 5002

bench: setup  ## cold start, where the time goes, throughput and memory old vs new, memory at 5M sentences, REST load, installs
	python bench/scoring.py --encoder float32:6 int8:6 int8:4
	python bench/serving.py
	python bench/install.py

bench-transfer: setup  ## leave one writer / style out, and real news: chooses the default -> bench/transfer_results.md
	python bench/transfer.py

bench-public: setup  ## every model family on the public benchmarks under ../shared/benchmarks -> bench/public_results.md
	python bench/public.py

bench-real: setup  ## every model family on realnews-dev, with intervals -> bench/real_results.md
	python bench/real.py

bench-levers: setup  ## corpus, family, class weights, prior shift: real news over 5 splits -> bench/levers_results.md
	python bench/levers.py

bench-active: setup  ## sampling strategies simulated on our corpus (5 seeds) -> bench/active_learning_results.md
	python bench/active_learning.py
