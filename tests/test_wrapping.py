"""Hard-wrapped text: sentences run across wraps, never across paragraphs, blocks or unwrapped lines."""

from __future__ import annotations

from ingest.chunking import split_document
from ingest.records import ChunkingParams, Document
from ingest.wrapping import logical_lines
from text.sentences import split_sentences

WRAPPED = """Wrapped notes

The installer pip-installs the five pinned wheels of the model into a temporary
folder, joins their parts and checks the checksum of the joined archive before
it unpacks anything. Nothing is downloaded when the service starts or answers.
A failed check leaves no half-unpacked folder behind, and the error says which
part was damaged, so that the user can remove it and run the command again.

- a list item that is long enough to have been wrapped by the editor at the
  width of the file, continued here.
- a second item

    indented code that is long enough to look full but is never joined to
    the next line

Short line.
Another short line.
"""


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text, lines=logical_lines(text))]


def test_sentences_cross_wraps_but_not_paragraphs_or_blocks() -> None:
    found = sentences(WRAPPED)
    assert ("The installer pip-installs the five pinned wheels of the model into a temporary\n"
            "folder, joins their parts and checks the checksum of the joined archive before\n"
            "it unpacks anything.") in found
    assert "Nothing is downloaded when the service starts or answers." in found
    assert any(sentence.startswith("A failed check") and sentence.endswith("run the command again.")
               for sentence in found)
    assert ("- a list item that is long enough to have been wrapped by the editor at the\n"
            "  width of the file, continued here.") in found
    assert "- a second item" in found
    assert "    indented code that is long enough to look full but is never joined to" not in found
    assert "Short line." in found and "Another short line." in found


def test_text_of_paragraph_lines_is_split_as_before() -> None:
    news = "Headline of the story\n\n" + "\n".join(
        " ".join(f"Paragraph {number} sentence {item} is long enough to fill a line." for item in range(5))
        for number in range(8))
    assert logical_lines(news) is None
    assert logical_lines("one line\nanother line\n") is None


def test_a_wrapped_document_is_chunked_with_whole_sentences() -> None:
    document = Document(doc_id="notes", source="notes.md", text=WRAPPED, title="Wrapped notes", content_hash="h")
    split = split_document(document, ChunkingParams())
    texts = [sentence.text for sentence in split.sentences]
    assert any(text.startswith("The installer") and text.endswith("unpacks anything.") for text in texts)
    assert all(WRAPPED[sentence.start:sentence.end] == sentence.text for sentence in split.sentences)
