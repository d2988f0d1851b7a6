"""Repeated lines and near-duplicate chunks are indexed once."""

from __future__ import annotations

from ingest.dedup import drop_near_duplicate_chunks, mark_duplicate_lines, merge_regions
from ingest.records import Chunk, Document, Region


def doc(doc_id: str, text: str, excluded: tuple[Region, ...] = ()) -> Document:
    return Document(doc_id=doc_id, source=f"{doc_id}.txt", text=text, title=doc_id,
                    content_hash=doc_id, excluded=excluded)


def chunk(doc_id: str, ordinal: int, text: str) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}#{ordinal:04d}", doc_id=doc_id, ordinal=ordinal, start=0,
                 end=len(text), text=text, token_count=len(text.split()), sentence_start=0, sentence_end=1)


def test_repeated_headline_line_is_excluded_once() -> None:
    text = "Big news about the harbour today\n\nBig news about the harbour today!\nBody text here."
    [marked] = mark_duplicate_lines([doc("a", text)])
    assert [(r.start, r.end, r.reason) for r in marked.excluded] == [(34, 67, "duplicate")]


def test_paragraph_repeated_across_documents_is_excluded_in_the_later_one() -> None:
    wire = "The central bank raised its main rate by half a point on Tuesday."
    first, second = mark_duplicate_lines([doc("b", f"Intro line here.\n{wire}"), doc("a", wire)])
    assert first.doc_id == "a" and first.excluded == ()
    assert second.excluded[0].reason == "duplicate"
    assert second.text[second.excluded[0].start : second.excluded[0].end] == wire


def test_short_lines_and_excluded_lines_are_not_counted() -> None:
    text = "Share this\nShare this\nA caption repeated under the photo\nA caption repeated under the photo"
    furniture = (Region(start=22, end=56, reason="furniture:caption"),)
    [marked] = mark_duplicate_lines([doc("a", text, furniture)])
    # The short repeated line is kept; the second caption is the first *kept* occurrence.
    assert [r.reason for r in marked.excluded] == ["furniture:caption"]


def test_near_duplicate_chunks_across_documents_are_dropped() -> None:
    text = "officials said the talks in the capital would resume next week after a pause over sanctions"
    kept, dropped = drop_near_duplicate_chunks([
        chunk("a", 0, text), chunk("b", 0, text + " today"), chunk("b", 1, "something else entirely")])
    assert [c.chunk_id for c in kept] == ["a#0000", "b#0001"]
    assert dropped[0].chunk_id == "b#0000" and dropped[0].duplicate_of == "a#0000"
    assert dropped[0].similarity >= 0.8


def test_chunks_of_the_same_document_are_never_compared() -> None:
    text = "the same words repeated in two overlapping chunks of one document here"
    kept, dropped = drop_near_duplicate_chunks([chunk("a", 0, text), chunk("a", 1, text)])
    assert len(kept) == 2 and dropped == ()


def test_merge_regions_merges_overlaps() -> None:
    merged = merge_regions([Region(start=5, end=9, reason="x"), Region(start=0, end=6, reason="y")])
    assert [(r.start, r.end, r.reason) for r in merged] == [(0, 9, "y")]
