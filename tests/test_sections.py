"""Section structure: HTML headings reach the document, chunks stay inside a section and carry its heading path."""

from __future__ import annotations

from pathlib import Path

import lxml.html  # type: ignore[import-untyped]  # lxml ships no type stubs

from index.build import segment_corpus
from ingest.chunking import split_document
from ingest.html import extract_html
from ingest.html_text import blocks_of
from ingest.readers import read_corpus
from ingest.records import Chunk, ChunkingParams, Document, Heading
from ingest.sections import heading_context, heading_path, section_numbers

SITE = Path(__file__).resolve().parent / "fixtures" / "sphinx_site"
PARAMS = ChunkingParams()
NESTED = """<html><head><title>Guide — Lantern</title></head><body><div class="body" role="main">
<section><h1>Guide<a class="headerlink" href="#guide">¶</a></h1><p>Lantern lights lamps.</p>
<section><h2>Install</h2><p>Run <code>pip install lantern</code> to install it.</p>
<section><h3>On <em>Windows</em></h3><p>Use the <code>py</code> launcher.</p></section></section>
<section><h2>Serve</h2><pre>lantern serve
lantern stop</pre><dl><dt>port</dt><dd>The port to listen on.</dd></dl></section>
<section><h2>API</h2><dl class="py class"><dt class="sig" id="lantern.Lamp">class lantern.Lamp(name, watts=40)</dt>
<dd><p>One lamp.</p><dl class="py method"><dt class="sig" id="lantern.Lamp.light">light(level)</dt>
<dd><p>Turn the lamp on.</p></dd></dl></dd></dl></section>
</section></div></body></html>"""


def heading_texts(text: str, headings: tuple[Heading, ...]) -> list[tuple[str, int]]:
    return [(text[heading.start:heading.end], heading.level) for heading in headings]


def test_blocks_say_which_paragraphs_are_headings_code_and_prose() -> None:
    region = lxml.html.fromstring(NESTED).find_class("body")[0]
    kinds = [(block.kind, block.level, block.text) for block in blocks_of(region)]
    assert ("heading", 1, "Guide¶") in kinds
    assert ("heading", 3, "On Windows") in kinds
    assert ("code", 0, "lantern serve\nlantern stop") in kinds
    assert ("prose", 0, "Run pip install lantern to install it.") in kinds
    assert ("prose", 0, "port") in kinds  # a definition term is prose, not a section,
    assert ("prose", 0, "class lantern.Lamp(name, watts=40)") in kinds  # even an API entry's signature


def test_extraction_gives_heading_offsets_into_its_text() -> None:
    page = extract_html(NESTED)
    assert heading_texts(page.text, page.headings) == [
        ("Guide", 1), ("Install", 2), ("On Windows", 3), ("Serve", 2), ("API", 2)]
    assert heading_context(page.text, page.headings, page.text.index("Turn the lamp")) == "Guide > API"


def test_a_page_of_plain_text_or_trafilatura_output_may_have_no_headings() -> None:
    page = extract_html("<html><body><p>Just one paragraph of text that says something.</p></body></html>")
    assert page.headings == ()


def test_heading_path_is_an_outline_and_leaves_out_the_sections_own_heading() -> None:
    text = "Guide\n\nIntro.\n\nInstall\n\nStep.\n\nWindows\n\nLauncher.\n\nServe\n\nPort."
    headings = tuple(Heading(start=text.index(name), end=text.index(name) + len(name), level=level)
                     for name, level in (("Guide", 1), ("Install", 2), ("Windows", 3), ("Serve", 2)))
    assert heading_context(text, headings, text.index("Launcher")) == "Guide > Install > Windows"
    assert heading_context(text, headings, text.index("Windows")) == "Guide > Install"
    # A sibling closes the section before it: "Serve" is under "Guide", not under "Install".
    assert heading_context(text, headings, text.index("Serve")) == "Guide"
    assert heading_context(text, headings, text.index("Port")) == "Guide > Serve"
    assert heading_context(text, headings, 0) == ""
    assert [heading.level for heading in heading_path(headings, len(text))] == [1, 2]
    assert section_numbers(headings, [text.index("Install"), text.index("Step"), 0]) == [2, 2, 1]


def test_chunks_stay_inside_one_section_and_carry_its_path() -> None:
    documents = read_corpus([SITE]).documents
    install = next(document for document in documents if document.doc_id == "guide/install")
    chunks = split_document(install, PARAMS).chunks
    for chunk in chunks:
        assert install.text[chunk.start:chunk.end] == chunk.text
        inside = [heading for heading in install.headings if chunk.start < heading.start < chunk.end]
        assert inside == [], f"{chunk.chunk_id} crosses a section boundary"
    by_start = {chunk.text.split("\n")[0]: chunk.context for chunk in chunks}
    assert by_start["Requirements"] == "Installation"
    assert by_start["Virtual environments"] == "Installation"
    assert any(chunk.context == "Installation > Virtual environments" for chunk in chunks)


def test_search_text_is_the_path_then_the_text_and_citations_stay_exact() -> None:
    chunk = Chunk(chunk_id="d#0001", doc_id="d", ordinal=1, start=10, end=20, text="HTTP verbs", token_count=2,
                  sentence_start=1, sentence_end=2, context="Quickstart > Routing")
    assert chunk.search_text == "Quickstart > Routing\nHTTP verbs"
    assert Chunk(chunk_id="d#0000", doc_id="d", ordinal=0, start=0, end=3, text="abc", token_count=1,
                 sentence_start=0, sentence_end=1).search_text == "abc"


def test_plain_text_is_chunked_exactly_as_before() -> None:
    text = "Heading line\n\n" + " ".join(f"Sentence number {number} is here." for number in range(60))
    plain = Document(doc_id="d", source="d.txt", text=text, title="t", content_hash="h")
    chunks = split_document(plain, PARAMS).chunks
    assert len(chunks) > 1
    assert all(chunk.context == "" and chunk.search_text == chunk.text for chunk in chunks)


def test_the_seed_corpus_has_no_headings(seed_corpus: Path) -> None:
    segmented = segment_corpus(read_corpus([seed_corpus]).documents, PARAMS)
    assert all(document.headings == () for document in segmented.documents)
    assert all(chunk.context == "" for chunk in segmented.chunks)


def test_headings_and_heading_paths_survive_the_index_and_bm25_reads_the_path(tmp_path: Path) -> None:
    from index.build import ingest
    from index.load import load_index
    from ingest.embedding import HashingEmbedder

    embedder = HashingEmbedder(64)
    report = ingest([SITE], tmp_path, embedder)
    index = load_index(tmp_path, expected_model_id=embedder.model_id)
    assert tuple(index.documents.values()) == report.documents
    assert any(document.headings for document in report.documents)
    assert any(chunk.context for chunk in index.chunks)
    assert any(document.code_blocks for document in report.documents)
    by_id = {chunk.chunk_id: chunk for chunk in index.chunks}
    # "installation" is in no chunk's own text after the first, but in the path of the later ones.
    found = [index.chunks[hit.row] for hit in index.sparse_search("installation", 10)]
    assert any("Installation" not in chunk.text and chunk.context.startswith("Installation") for chunk in found)
    assert all(by_id[chunk.chunk_id].text == index.documents[chunk.doc_id].text[chunk.start:chunk.end]
               for chunk in index.chunks)


def test_a_code_block_is_one_sentence_and_prose_around_it_is_split_as_before() -> None:
    page = extract_html(NESTED)
    assert [page.text[block.start:block.end] for block in page.code_blocks] == ["lantern serve\nlantern stop"]
    document = Document(doc_id="d", source="d.html", text=page.text, title="Guide", content_hash="h",
                        headings=page.headings, code_blocks=page.code_blocks)
    texts = [sentence.text for sentence in split_document(document, PARAMS).sentences]
    assert "lantern serve\nlantern stop" in texts
    assert "lantern serve" not in texts
    assert "Run pip install lantern to install it." in texts


def test_a_code_block_cut_by_an_excluded_region_keeps_only_its_kept_part() -> None:
    from text.sentences import split_sentences

    text = "Intro. More.\n\nline one\nline two\nline three\n\nAfter."
    block = (text.index("line one"), text.index("line three") + len("line three"))
    spans = split_sentences(text, 0, text.index("line three"), units=[block])
    assert [text[start:end] for start, end in spans] == ["Intro.", "More.", "line one\nline two"]
    assert [text[start:end] for start, end in split_sentences(text, units=[block])][-2:] == [
        "line one\nline two\nline three", "After."]


def test_pooled_sentences_point_into_the_search_text_past_the_path() -> None:
    from ingest.sentence_vectors import sentence_sources

    documents = read_corpus([SITE]).documents
    install = next(document for document in documents if document.doc_id == "guide/install")
    split = split_document(install, PARAMS)
    sources = sentence_sources(split.chunks, split.sentences)
    checked = 0
    for sentence, found in zip(split.sentences, sources, strict=True):
        for source in found:
            chunk = split.chunks[source.chunk_row]
            assert chunk.search_text[source.start:source.end] == sentence.text
            checked += bool(chunk.context)
    assert checked
