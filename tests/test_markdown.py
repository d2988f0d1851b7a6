"""Markdown structure: ATX and setext headings, fenced code, front matter; chunks follow the sections."""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import split_document
from ingest.markdown import markdown_structure, markdown_title
from ingest.readers import read_corpus
from ingest.records import ChunkingParams
from ingest.sections import heading_name

GUIDE = """---
title: not a heading
---
# Lantern guide

Lantern lights lamps.

Install
-------

Run this in a shell:

```bash
# a comment, not a heading
pip install lantern
```

## Configure ##

Set the port in the settings file. The default port is 8080.

A paragraph of
two lines
---

~~~
never closed
"""


def headings_of(text: str) -> list[tuple[str, int]]:
    return [(heading_name(text[heading.start:heading.end]), heading.level)
            for heading in markdown_structure(text).headings]


def test_atx_and_setext_headings_named_without_their_marks_and_nothing_inside_code_or_front_matter() -> None:
    assert headings_of(GUIDE) == [("Lantern guide", 1), ("Install", 2), ("Configure", 2)]
    [first, *_] = markdown_structure(GUIDE).headings
    assert GUIDE[first.start:first.end] == "# Lantern guide"  # the heading line opens its section
    assert heading_name("## C# ") == "C#" and heading_name("#1 tip") == "#1 tip"
    blocks = [GUIDE[block.start:block.end] for block in markdown_structure(GUIDE).code_blocks]
    assert blocks == ["```bash\n# a comment, not a heading\npip install lantern\n```", "~~~\nnever closed"]
    assert markdown_title(GUIDE, markdown_structure(GUIDE).headings) == "Lantern guide"


def test_what_is_not_a_heading() -> None:
    assert headings_of("#hashtag at the start\n\n#\n\n    # indented code\n") == []
    # A line of dashes after a blank line is a thematic break; after a list item it is no underline.
    assert headings_of("Text.\n\n---\n\n- item\n---\n") == []
    # Backtick fences whose info string holds a backtick are not fences: the heading after counts.
    assert headings_of("``` a`b\n# Heading\n") == [("Heading", 1)]
    assert markdown_structure("plain text only\n").headings == ()


def test_a_markdown_corpus_is_chunked_by_section_with_heading_paths(tmp_path: Path) -> None:
    sections = "\n\n".join(
        f"## Part {number}\n\n" + " ".join(f"Part {number} sentence {item} says something." for item in range(30))
        for number in range(3))
    (tmp_path / "guide.md").write_text(f"# Guide\n\nIntro line here.\n\n{sections}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("# Not markdown\n\nPlain text keeps no headings.\n", encoding="utf-8")
    documents = {document.doc_id: document for document in read_corpus([tmp_path]).documents}
    guide = documents["guide"]
    assert guide.title == "Guide"
    assert [guide.text[heading.start:heading.end] for heading in guide.headings] == [
        "# Guide", "## Part 0", "## Part 1", "## Part 2"]
    assert documents["notes"].headings == ()
    chunks = split_document(guide, ChunkingParams()).chunks
    for chunk in chunks:
        assert guide.text[chunk.start:chunk.end] == chunk.text
        assert not any(chunk.start < heading.start < chunk.end for heading in guide.headings)
    later = [chunk for chunk in chunks if chunk.text.startswith("Part 1 sentence")]
    assert later and all(chunk.context == "Guide > Part 1" for chunk in later)
