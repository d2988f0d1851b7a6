"""Text file bytes -> text: UTF-8, a byte-order mark, a damaged UTF-8 file, or a detected legacy encoding (pure).

Offsets everywhere are characters of the decoded text, so a file's encoding only decides its text,
never its offsets. The order of the checks:

1. Valid UTF-8 (the common case; a UTF-8 byte-order mark stays in the text as U+FEFF).
2. A UTF-32 or UTF-16 byte-order mark: decoded as such (the mark itself is dropped).
3. NUL bytes or mostly control characters: binary, refused.
4. UTF-8 with a few damaged sequences (a file cut in the middle of a character, a stray byte in a
   file that is otherwise UTF-8): decoded with each bad sequence replaced by U+FFFD, and reported.
5. Anything else goes to charset-normalizer, which tries every codec Python has and scores the
   results by how messy (chaos) and how much like a language (coherence) each decoding reads.
   Its own first choice is unreliable on files with few non-ASCII bytes (an English article whose
   only non-ASCII byte is one "£" came out as cp932, Japanese); here the clean decodings are
   ranked by coherence, and among near-equal ones a Windows code page wins, cp1252 first: they are
   the legacy encodings people's files are in (the WHATWG Encoding Standard's defaults).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import charset_normalizer

from ingest.records import Refused

UTF8 = "utf-8"
_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
# Below 32, except tab, line feed, form feed and carriage return.
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
_CONTROL_SAMPLE = 4096  # characters examined for control characters
_ESCAPED_RUN = re.compile("[\udc80-\udcff]+")  # invalid bytes under surrogateescape
MAX_DAMAGED_SHARE = 0.5
"""A file is damaged UTF-8 when at most this share of its non-ASCII sequences is invalid: a legacy
file has almost no valid UTF-8 sequence, a damaged UTF-8 file almost no invalid one."""
CHAOS_TOLERANCE = 10.0
"""Percentage points of charset-normalizer's chaos within which decodings count as equally clean."""
COHERENCE_TOLERANCE = 0.05
"""Coherence within which decodings count as equally language-like (then a Windows code page wins)."""
_NUL_REASON = "contains NUL bytes and no UTF-16/32 byte-order mark: not a text file"
_DETECTION_THRESHOLD = 0.5
"""charset-normalizer's ``threshold`` (most chaos allowed): its default 0.2 found nothing for a
two-line Polish cp1250 text (15 % chaos)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """A file's text, the encoding it was decoded from, and the damage found (empty when none).

    ``encoding`` is a Python codec name ("utf-8", "utf-16-le", "cp1252"); ``detected`` is True when
    charset-normalizer chose it. ``damage`` is a one-line description of the invalid UTF-8 sequences
    replaced by U+FFFD, or "".
    """

    text: str
    encoding: str
    detected: bool = False
    damage: str = ""


def decode_text(data: bytes) -> Decoded | Refused:
    """Decode file bytes (see the module docstring for the order of the checks)."""
    try:
        return _checked(Decoded(text=data.decode(UTF8), encoding=UTF8))
    except UnicodeDecodeError:
        pass
    for mark, encoding in _BOMS:
        if data.startswith(mark):
            try:
                return _checked(Decoded(text=data[len(mark):].decode(encoding), encoding=encoding))
            except UnicodeDecodeError as error:
                return Refused(code="invalid_encoding",
                               reason=f"{encoding} byte-order mark, but invalid {encoding} at byte "
                                      f"{len(mark) + error.start}; re-save the file as UTF-8")
    if b"\x00" in data:
        return Refused(code="binary", reason=_NUL_REASON)
    damaged = _damaged_utf8(data)
    if damaged is not None:
        return _checked(damaged)
    return _checked(_detected(data))


def _checked(decoded: Decoded | Refused) -> Decoded | Refused:
    """Refuse empty text and text that is mostly control characters (a binary file that decoded)."""
    if isinstance(decoded, Refused):
        return decoded
    text = decoded.text
    if "\x00" in text:
        return Refused(code="binary", reason=_NUL_REASON)
    if not text.strip():
        return Refused(code="empty", reason="file is empty or only whitespace")
    sample = min(len(text), _CONTROL_SAMPLE)
    if len(_CONTROL_CHARACTER.findall(text, 0, _CONTROL_SAMPLE)) > 0.05 * sample:
        return Refused(code="binary", reason="mostly control characters: not a text file")
    return decoded


def _damaged_utf8(data: bytes) -> Decoded | None:
    """``data`` as UTF-8 with its few invalid sequences replaced, or None when it is not UTF-8.

    UTF-8 multibyte sequences almost never occur by chance in a legacy-encoded file, so a file
    whose non-ASCII sequences are mostly valid UTF-8 is UTF-8 with damage. A file cut inside a
    character (two or three bytes of a longer sequence at the very end) is damaged UTF-8 too.
    One pass: ``surrogateescape`` turns each invalid byte into one lone surrogate.
    """
    escaped = data.decode(UTF8, errors="surrogateescape")
    runs = [match.span() for match in _ESCAPED_RUN.finditer(escaped)]
    valid_multibyte = sum(1 for character in escaped if ord(character) > 0x7F) - sum(end - start for start, end in runs)
    tail_start, tail_end = runs[-1]
    truncated_at_end = (tail_end == len(escaped) and 2 <= tail_end - tail_start <= 3
                        and ord(escaped[tail_start]) - 0xDC00 >= 0xE0)
    if not (truncated_at_end and len(runs) == 1) and (
            len(runs) > MAX_DAMAGED_SHARE * (len(runs) + valid_multibyte)):
        return None
    first_start, first_end = runs[0]
    first_byte = len(escaped[:first_start].encode(UTF8, errors="surrogateescape"))
    truncated = first_end == len(escaped) and ord(escaped[first_start]) - 0xDC00 >= 0xC0
    problem = ("truncated multibyte sequence at the end" if truncated
               else f"invalid byte 0x{ord(escaped[first_start]) - 0xDC00:02x}")
    more = f", and {len(runs) - 1} more invalid sequences" if len(runs) > 1 else ""
    damage = (f"invalid UTF-8 at byte {first_byte} ({problem}){more}: replaced by U+FFFD; "
              "re-save the file as UTF-8 to index those characters")
    return Decoded(text=data.decode(UTF8, errors="replace"), encoding=UTF8, damage=damage)


def _detected(data: bytes) -> Decoded | Refused:
    """The legacy encoding charset-normalizer finds for ``data``, ranked as the module says."""
    results = list(charset_normalizer.from_bytes(data, threshold=_DETECTION_THRESHOLD))
    if not results:
        return Refused(code="unknown_encoding",
                       reason="not UTF-8, and no known encoding decodes it as readable text; "
                              "re-save the file as UTF-8")
    cleanest = min(result.percent_chaos for result in results)
    clean = [result for result in results if result.percent_chaos <= cleanest + CHAOS_TOLERANCE]
    most_coherent = max(result.coherence for result in clean)
    near = [result for result in clean if result.coherence >= most_coherent - COHERENCE_TOLERANCE]
    chosen = min(near, key=_preference)  # min keeps charset-normalizer's order among equals
    return Decoded(text=str(chosen), encoding=chosen.encoding.replace("_", "-"), detected=True)


def _preference(result: charset_normalizer.CharsetMatch) -> int:
    if result.encoding == "cp1252":
        return 0
    return 1 if result.encoding.startswith("cp125") else 2
