"""The Python API (``grounded.open_index``, ``Index``, ``grounded.ingest``): the HTTP shapes, no server.

Equal-to-HTTP tests compare the facade with ``POST /query``, ``POST /check`` and ``GET /documents*``
of an app serving the same index, so the two surfaces cannot drift; the README's Python blocks run
here too (the ask block against a hashing index, both blocks with the real model in a slow test).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import grounded
from index.errors import IndexFolderError, ModelMismatchError
from ingest.embedding import HashingEmbedder
from ingest.errors import CorpusError, OptionError
from service.app import create_app
from service.engine import load_engine
from service.schemas import CheckResponse, DocumentDetail, PassageBody, QueryResponse
from service.server import hand_over
from service.settings import load_settings
from tests.support.fakes import FAKE_DOCUMENTS, LIGHTHOUSE, FakeEngine, write_fake_corpus
from tests.support.paths import REPO, SEED_CORPUS

QUESTION = "Who mediated the talks?"


@pytest.fixture(scope="module")
def index(hashing_seed_index: Path) -> grounded.Index:
    return grounded.open_index(hashing_seed_index)


@pytest.fixture(scope="module")
def http(hashing_seed_index: Path) -> Iterator[TestClient]:
    """The HTTP service over the same index (its own engine: the result caches are separate)."""
    settings = load_settings(index_dir=hashing_seed_index)
    app = create_app(settings, engine_loader=hand_over(load_engine(hashing_seed_index)))
    with TestClient(app) as client:
        yield client


def without_timings(body: dict[str, Any]) -> dict[str, Any]:
    """A query body without what differs between two runs of the same query (wall times)."""
    return {key: value for key, value in body.items() if key != "timings_ms"}


@pytest.mark.parametrize(("question", "options"), [
    (QUESTION, {}),
    ("When did the talks take place?", {"top_k": 3, "mode": "sparse"}),
    ("What did the United States offer?", {"top_k": 2, "mode": "dense"}),
    ("What is the capital of Peru?", {}),
])
def test_ask_returns_the_query_body_http_sends(index: grounded.Index, http: TestClient, question: str,
                                               options: dict[str, Any]) -> None:
    response = index.ask(question, **options)
    assert isinstance(response, QueryResponse)
    body = http.post("/query", json={"question": question, **options}).json()
    assert without_timings(response.model_dump(mode="json")) == without_timings(body)
    assert response.index_version == index.index_version


def test_doc_ids_restrict_retrieval_as_the_http_filter_does(index: grounded.Index, http: TestClient) -> None:
    doc_id = index.documents()[1].doc_id
    response = index.ask(QUESTION, doc_ids=[doc_id], top_k=3)
    assert {passage.citation.doc_id for passage in response.passages} == {doc_id}
    body = http.post("/query", json={"question": QUESTION, "top_k": 3, "filters": {"doc_ids": [doc_id]}}).json()
    assert without_timings(response.model_dump(mode="json")) == without_timings(body)
    # A lone string is one doc_id, not its characters.
    assert index.ask(QUESTION, doc_ids=doc_id, top_k=3).passages == response.passages


def test_search_is_the_passages_of_ask(index: grounded.Index) -> None:
    passages = index.search(QUESTION, top_k=4)
    assert all(isinstance(passage, PassageBody) for passage in passages)
    assert passages == index.ask(QUESTION, top_k=4).passages
    for passage in passages:
        text = index.document(passage.citation.doc_id).text
        assert text[passage.citation.start_char:passage.citation.end_char] == passage.text


def test_check_takes_an_answer_from_ask_and_equals_post_check(index: grounded.Index, http: TestClient) -> None:
    answer = index.ask(QUESTION).answer
    assert answer is not None
    verdicts = index.check(answer)
    assert isinstance(verdicts, CheckResponse)
    cited = [{"doc_id": c.doc_id, "start_char": c.start_char, "end_char": c.end_char} for c in answer.citations]
    body = http.post("/check", json={"answer": {"text": answer.text, "citations": cited}}).json()
    assert verdicts.model_dump(mode="json") == body
    # The same answer as text with mappings, and with the citations of the answer given explicitly.
    assert index.check(answer.text, cited) == verdicts
    assert index.check(answer.text, answer.citations) == verdicts


def test_check_without_citations_retrieves_with_the_question(index: grounded.Index, http: TestClient) -> None:
    text = "The talks took place in Venezuela."
    assert index.check(text).sentences[0].verdict == "no_citation"
    verdicts = index.check(text, question="Where did the talks take place?")
    body = http.post("/check", json={"answer": {"text": text}, "question": "Where did the talks take place?"}).json()
    assert verdicts.model_dump(mode="json") == body


def test_documents_equal_the_document_routes(index: grounded.Index, http: TestClient) -> None:
    summaries = index.documents()
    assert [summary.model_dump() for summary in summaries] == http.get("/documents").json()
    detail = index.document(summaries[0].doc_id)
    assert isinstance(detail, DocumentDetail)
    assert detail.model_dump() == http.get(f"/documents/{summaries[0].doc_id}").json()


def test_arguments_follow_the_http_rules_with_errors_that_say_what_to_fix(index: grounded.Index) -> None:
    with pytest.raises(grounded.InvalidRequestError, match="question: must not be empty; ask a question"):
        index.ask("")
    with pytest.raises(ValueError, match="top_k: must be between 1 and 50"):
        index.ask(QUESTION, top_k=0)
    with pytest.raises(ValueError, match="mode: must be one of"):
        index.ask(QUESTION, mode="fuzzy")  # type: ignore[arg-type]
    with pytest.raises(grounded.InvalidRequestError, match="plain text"):
        index.ask("what\x00happened")
    with pytest.raises(grounded.UnknownDocumentError, match=r'\[0\] "no-such-doc".*Index.documents\(\)'):
        index.ask(QUESTION, doc_ids=["no-such-doc"])
    with pytest.raises(grounded.UnknownDocumentError, match="no document has doc_id"):
        index.document("no-such-doc")
    doc_id = index.documents()[0].doc_id
    length = len(index.document(doc_id).text)
    with pytest.raises(grounded.InvalidCitationError, match=f"give 0 <= start_char < end_char <= {length}"):
        index.check("A sentence.", [{"doc_id": doc_id, "start_char": 0, "end_char": length + 1}])
    with pytest.raises(grounded.InvalidRequestError, match=r"answer.citations\[0\].start_char"):
        index.check("A sentence.", [{"doc_id": doc_id, "start_char": "0", "end_char": 5}])


def test_open_index_uses_a_given_embedder_only_if_it_is_the_manifests(hashing_seed_index: Path) -> None:
    opened = grounded.open_index(hashing_seed_index, embedder=HashingEmbedder(384))
    assert opened.ask(QUESTION).passages
    with pytest.raises(ModelMismatchError, match="hashing:384"):
        grounded.open_index(hashing_seed_index, embedder=HashingEmbedder(256))
    with pytest.raises(IndexFolderError):
        grounded.open_index(hashing_seed_index.parent / "no-index-here")


def test_an_index_over_any_engine_keeps_the_contract() -> None:
    index = grounded.Index(FakeEngine())
    assert [summary.doc_id for summary in index.documents()] == sorted(doc.doc_id for doc in FAKE_DOCUMENTS)
    assert index.ask("How far does the lighthouse beam reach at night?").answer is not None
    assert repr(index) == "<grounded.Index fake-index-0: 2 documents>"
    assert index.document(LIGHTHOUSE.doc_id).text == LIGHTHOUSE.text


def test_ingest_builds_what_the_cli_builds_and_reuses_vectors(tmp_path: Path) -> None:
    corpus = write_fake_corpus(tmp_path / "corpus", FAKE_DOCUMENTS)
    report = grounded.ingest(corpus, tmp_path / "index", model="hashing:384", max_tokens=120)
    assert report.published and report.embedded_texts > 0
    assert report.manifest.chunking.max_tokens == 120
    again = grounded.ingest([str(corpus)], tmp_path / "index", embedder=HashingEmbedder(384), max_tokens=120)
    assert not again.published and again.embedded_texts == 0
    assert again.manifest.index_version == report.manifest.index_version
    from grounded.cli import main

    assert main(["ingest", str(corpus), "--index", str(tmp_path / "cli"), "--model", "hashing:384",
                 "--max-tokens", "120"]) == 0
    assert load_engine(tmp_path / "cli").index_version == report.manifest.index_version
    opened = grounded.open_index(tmp_path / "index")
    assert LIGHTHOUSE.text in opened.document(LIGHTHOUSE.doc_id).text


def test_ingest_refuses_bad_options_before_loading_a_model(tmp_path: Path) -> None:
    corpus = write_fake_corpus(tmp_path / "corpus", FAKE_DOCUMENTS)
    # A model name that cannot load: each error below is raised before anything tries.
    with pytest.raises(CorpusError, match="does not exist; pass a folder or file"):
        grounded.ingest([corpus, tmp_path / "missing"], tmp_path / "index", model="no/such-model")
    with pytest.raises(OptionError, match=r"--shards must lie in 1\.\."):
        grounded.ingest(corpus, tmp_path / "index", model="no/such-model", shards=0)
    with pytest.raises(ValueError, match="--overlap-tokens"):
        grounded.ingest(corpus, tmp_path / "index", model="no/such-model", max_tokens=100, overlap_tokens=100)
    with pytest.raises(OptionError, match="model or embedder, not both"):
        grounded.ingest(corpus, tmp_path / "index", model="hashing:384", embedder=HashingEmbedder(384))
    assert not (tmp_path / "index").exists()


def test_import_grounded_loads_neither_torch_faiss_nor_the_service() -> None:
    code = ("import sys, grounded; print(sorted(m for m in ('torch', 'faiss', 'numpy', 'pydantic', 'mcp', "
            "'service', 'grounded.api') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_every_exported_name_resolves() -> None:
    for name in grounded.__all__:
        assert getattr(grounded, name) is not None
    assert set(dir(grounded)) == set(grounded.__all__)
    with pytest.raises(AttributeError, match="nope"):
        grounded.nope  # type: ignore[attr-defined]  # noqa: B018


def readme_python_blocks() -> list[str]:
    """The ```python blocks of the README's "Python API" section, in order."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def run_readme_block(code: str, index_dir: Path) -> str:
    """Run a README block in a fresh interpreter at the repository root, ``var/index`` pointing at ``index_dir``."""
    assert '"var/index"' in code
    result = subprocess.run([sys.executable, "-c", code.replace('"var/index"', repr(str(index_dir)))],
                            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_ask_block_runs(hashing_seed_index: Path) -> None:
    build, ask = readme_python_blocks()
    assert "grounded.ingest(" in build and "grounded.open_index(" in ask
    output = run_readme_block(ask, hashing_seed_index)
    assert "supported share:" in output or "The documents do not answer:" in output
    assert len(re.findall(r"^[123] -?\d", output, flags=re.MULTILINE)) == 3


@pytest.mark.slow
def test_the_readme_blocks_run_with_the_real_model(tmp_path: Path) -> None:
    build, ask = readme_python_blocks()
    assert '["data/corpus"]' in build and SEED_CORPUS == REPO / "data" / "corpus"
    assert " chunks" in run_readme_block(build, tmp_path / "index")
    output = run_readme_block(ask, tmp_path / "index")
    assert "supported share:" in output
