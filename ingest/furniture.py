"""Page-furniture detection: which character ranges of a news page are not article text.

Pure, deterministic and linear in the text; the text is never rewritten. The result is a tuple of
``Region``s covering whole lines, with reasons ``furniture:<rule>``.

Line rules look at one line (and, for captions, the credit under it): ``credit``, ``caption``,
``copyright``, ``reporting-credit``, ``share-bar``, ``section-label``, ``file-name``,
``language-link``, ``nav-link``, ``inline-teaser``, ``metadata``. Range rules look further:

- ``teaser-tail``: a recirculation cue line after the article has started (a module heading such
  as "More from X", "Related ...", "Most read", or a link text such as "Read more", "Show less")
  starts a tail that runs to the end of the text when the lines up to the next cue are teaser
  cards (mostly short non-sentence lines) or share little vocabulary with the article's lead
  (lexical cohesion). A bare link text needs the stronger, cohesion-only evidence, so a stray
  "Read more" inside an article cuts nothing. The tail may grow back over the credit, caption and
  headline of the teaser card its cue closes.
- ``teaser-box``: a rejected cue followed by two or more headline-shaped lines (a related-links box
  inside the article).
- ``author-bio``: an "About the author(s)" heading up to the end or the next paragraph that is
  about the article again.
"""

# Word lists read best as text.
# ruff: noqa: SIM905
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.records import Region

_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_WORD = re.compile(r"[^\W\d_]{3,}")
_NAME_WORD = re.compile(r"[^\W\d_]+")
_CAMEL_JOIN = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_TRAILING_PUNCTUATION = re.compile(r"[\s:;.,!…»›>→|·•*-]+$")
_LEADING_BULLET = re.compile(r"^[\s\-–—•·*>»|]+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_DATE = re.compile(
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2},? \d{4}\b"
    r"|\b\d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{4}\b"
)

# Picture agencies and stock libraries as they appear in credits ("REUTERS/Name", "via Getty").
_AGENCY = (
    r"(?:REUTERS|Reuters|AP|AFP|EPA(?:-EFE)?|EFE|Getty(?: Images)?|GETTY(?: IMAGES)?|Bloomberg"
    r"|ANADOLU|Anadolu(?: Agency)?|XINHUA|Xinhua|TASS|KCNA|Sputnik|[Ss]hutterstock(?:\.com)?"
    r"|Alamy|PA(?: Wire| Images| Media)?|dpa|DPA|ZUMA(?: Press| Wire)?|SIPA|Sipa|NurPhoto|IMAGO"
    r"|imago|Unsplash|Pexels|Wikimedia Commons|Flickr|AAP|Kyodo|Yonhap|UPI|Pool|SOPA Images"
    r"|LightRocket|Abaca|Redux|Polaris|iStock(?:photo)?)"
)
_CREDIT_LINE = re.compile(
    rf"^{_AGENCY}\s*/\s*(?:[A-Z][\w.'’-]*\s*){{1,5}}$"  # REUTERS/Manaure Quintero
    rf"|/\s*{_AGENCY}(?:\s+via\s+{_AGENCY})?\s*$"  # Jane Doe/AFP via Getty Images
    rf"|\bvia\s+(?:{_AGENCY}|[\w-]+\.(?:com|org|net))\s*$"  # ... via shutterstock.com
    r"|^\(?(?:AP|AFP|Reuters|EPA) (?:Photo|Foto|Images?)\s*/"
    r"|^(?:[Pp]hoto(?:graph)?s?|[Ii]mages?|[Pp]ictures?)\s+(?:by|courtesy of)\s+\S"
    r"|^(?:[Cc]redits?|[Pp]hoto courtesy(?: of)?|[Cc]ourtesy(?: of)?|[Ss]ource)\s*:"
)
# Reporting credits at the foot of wire copy ("Reporting by X; Editing by Y").
_CONTRIBUTED = re.compile(
    r"\b(?:contributed|contributing)(?: reporting)? to this (?:report|story|article)\.?$"
)
_REPORTING_BY = re.compile(
    r"^\(?(?:[Aa]dditional )?(?:[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Rr]esearch)"
    r"(?: and (?:writing|editing))? by (.+?)\)?\.?$"
)
# The only lower-case words a list of names and places in a reporting credit contains.
_CREDIT_CONNECTORS = frozenset(
    "in and from at with by editing writing reporting additional de da del la le van von".split()
)
_CREDIT_WORDS = 12  # a credit line is a name list, not a sentence ("Reuters/Ipsos poll shows ...")
_COPYRIGHT_LINE = re.compile(
    r"^(?:©|\([cC]\)\s|[Cc]opyright\s+(?:©\s*|\([cC]\)\s*)?\d{4}|[Aa]ll rights reserved)"
)
# "Photos: ...", "Top image credit: ...", "Featured photo by: ..." may carry a long description.
_CREDIT_PREFIX = re.compile(
    r"^(?:(?:top|featured?|header|lead|main|cover|hero|banner)\s+)?"
    r"(?:photo(?:graph)?s?|images?|pictures?|pics?|video|graphics?|illustrations?|artwork)"
    r"\s*(?:credits?|by|courtesy(?: of)?|source)?\s*[:|]",
    re.IGNORECASE,
)
# A caption that carries its own credit at the end of the line.
_INLINE_CREDIT = re.compile(
    rf"\((?:{_AGENCY}|[A-Z][\w .'’&-]{{0,40}})\s*(?:Photo|Foto|Images?|photo)s?\s*/[^()]{{1,100}}\)"
    r"(?:\s*\((?:Copyright|©)[^()]*\))?\s*$"
    r"|\((?:Copyright|©)[^()]*\)\s*$"
    r"|\((?:(?:Photo|Image|Picture)s?(?:\s+credit)?(?:\s*:|\s+by\b)|Credit\s*:)[^()]{2,80}\)\s*$"
    r"|\((?:[A-Z][\w.'’-]*\s+){1,4}[A-Z][\w.'’-]*\s*/\s*(?:The\s+)?[A-Z][\w.'’&-]*"
    r"(?:\s+[A-Z][\w.'’&-]*){0,5}\)\s*$"
    r"|(?:[.!?”\"]\s+|\|\s*)(?:Photo|Image|Picture|Credit)s?(?: credit)?\s*:\s*[^.:]{2,80}$"
    rf"|[.!?]\s+(?:{_AGENCY})\s*/\s*[A-Z][\w .'’-]{{2,50}}$"
    rf"|[.!?]\s+[A-Z][\w .'’-]{{1,40}}\s+via\s+{_AGENCY}\s*$"
)
_SOCIAL = (
    r"(?:facebook|twitter|x|linkedin|whatsapp|telegram|reddit|pinterest|e-?mail|print|copy link"
    r"|flipboard|messenger|instagram|youtube|tiktok|threads|bluesky|mastodon|rss|sms|tweet|share"
    r"|comments?)"
)
_SHARE_ITEM = (
    r"(?:follow us(?: on [\w .]{1,30})?"
    r"|share(?: this)?(?: (?:article|story|post|page|video))?(?: (?:on|via|with) [\w.]{1,20})?"
    r"|sign up(?: (?:now|today|here))?"
    r"(?: (?:for|to) (?:our |the |a |free )?[\w' -]{0,40}(?:newsletter|updates|alerts|emails?))?"
    r"|follow .{1,100}\b(?:at|on) (?:https?://|www\.)\S+|reuse this content|republish(?: this \w+)?"
    rf"|click to (?:share|print|email)(?: on [\w.]+)?|{_SOCIAL})"
)
_SHARE_BAR = re.compile(rf"^{_SHARE_ITEM}(?:\s*[|·•,/]?\s*{_SHARE_ITEM})*$")
_SECTION_PART = r"[A-Z][\w&'’.-]*(?: (?:[A-Z&][\w&'’.-]*|of|and|the|in|on|for|de|la|y)){0,3}"
_SECTION_PATH = re.compile(rf"^{_SECTION_PART}(?:(?:\s*[|›»]\s*|\s[>/]\s){_SECTION_PART})+$")
_KICKER = re.compile(
    r"^(?:analysis|opinion|commentary|editorial|explainer|exclusive|breaking(?: news)?"
    r"|live(?: updates)?|sponsored(?: content)?|advertisement|advertising|paid (?:content|post)"
    r"|partner content|promoted|fact check|watch|listen|video|photos?|gallery|podcast)$"
)
_LANGUAGE = (
    r"(?:español|espanol|english|inglés|ingles|français|francais|french|spanish|deutsch|german"
    r"|português|portugues|portuguese|italiano|italian|arabic|chinese|russian|ukrainian)"
)
_LANGUAGE_LINK = re.compile(
    rf"^(?:(?:leer|lea|lee|léalo|lire|lisez|lesen|ler|leia|leggi|read|ver|voir|view)"
    rf"(?: (?:this|it|the article|the story|esta nota|este artículo))? (?:en|in|auf|em) {_LANGUAGE}"
    rf"|(?:versión|version|versão|versione) (?:en|in|em|française|{_LANGUAGE}) ?{_LANGUAGE}?"
    rf"|{_LANGUAGE} version|(?:en|in|em|auf) {_LANGUAGE}"
    rf"|this (?:article|story|page) is (?:also )?available in {_LANGUAGE})$"
)
_NAV = (
    r"(?:keep reading|continue reading|show (?:less|more|all)|view (?:all|more)(?: \w+){0,3}"
    r"|see (?:all|more)(?: \w+){0,3}|load more|read more|read (?:the )?full (?:story|article)"
    r"|back to top|skip to (?:main )?content|(?:next|previous|prev) (?:article|story|post|page))"
)
_NAV_LINK = re.compile(rf"^{_NAV}(?:\s*[|·•/]?\s*{_NAV})*$")
_INLINE_TEASER = re.compile(
    r"^(?:read more|read also|also read|see also|related|recommended|read next|more on this story"
    r"|watch|listen)\s*[:|»>→–—-]\s*\S",
    re.IGNORECASE,
)
_METADATA = re.compile(
    r"^(?:tags?|topics?|filed under|categories|category|posted in|type|keywords|related topics)"
    r"\s*:\s*\S.{0,80}$",
    re.IGNORECASE,
)
# Headings of recirculation modules: after the article they usually open the page's tail.
_HEADING_CUE = (
    r"(?:more (?:from|on|in|about) .{1,40}"
    r"|more (?:stories|news|articles|headlines|coverage|videos|reading|to read|to explore"
    r"|like this)|explore more(?: .{1,40})?|(?:related )?topics|tags"
    r"|related(?: \w+){0,2}|read (?:next|also|this next)|recommended(?: \w+){0,2}"
    r"|you (?:may|might|will|could) (?:also )?(?:like|enjoy|be interested in|have missed)"
    r"|(?:most|top) (?:popular|read|viewed|shared|emailed|commented|watched|stories|headlines)"
    r"(?: \w+){0,2}"
    r"|latest(?: (?:news|stories|articles|headlines|videos|updates|posts|from(?: \w+){1,3}))?"
    r"|trending(?: now| stories| news| topics)?|editor'?s'? picks?|popular (?:now|stories|posts)"
    r"|what to read next|further reading|don'?t miss|(?:also|elsewhere) (?:on|in|from) .{1,30}"
    r"|(?:from )?around the web|(?:sponsored|promoted|partner) (?:stories|content|links|posts)"
    r"|newsletters?)"
)
# Link texts ("Read more", "Show less", "Subscribe"): as often inside an article as after it.
_LINK_CUE = (
    r"(?:read more|sign up(?: .{0,40})?|subscribe(?: .{0,40})?"
    rf"|join the (?:conversation|discussion)|leave a (?:comment|reply)|comments?|{_NAV})"
)
_TAIL_CUE = rf"(?:{_HEADING_CUE}|{_LINK_CUE})"
_CUE_JOIN = r"\s*[|·•/,]?\s*"
_TAIL_CUE_LINE = re.compile(rf"^{_TAIL_CUE}(?:{_CUE_JOIN}{_TAIL_CUE})*$")
_HEADING_CUE_LINE = re.compile(
    rf"^(?:{_TAIL_CUE}{_CUE_JOIN})*{_HEADING_CUE}(?:{_CUE_JOIN}{_TAIL_CUE})*$"
)
_BIO_HEADING = re.compile(
    r"^(?:about (?:the |this )?(?:authors?|writers?|contributors?|reporters?)"
    r"|(?:the )?authors? (?:bio(?:graphy)?|information)|contributors?)$"
)
_IMAGE_FILE = re.compile(
    r"^[\w.-]+\.(?:jpe?g|png|gif|webp|svg|tiff?|bmp|heic|avif|mp4|mov|pdf)$"
    r"|^(?:IMG|DSC[FN]?|PXL|GettyImages|shutterstock|screen[-_]?shot|screenshot)[-_ ]?\d",
    re.IGNORECASE,
)

# Words too common to say what a paragraph is about (cohesion counts the rest).
_STOPWORDS = frozenset(
    "the and for that with this from have has had was were are been being will would could "
    "should may might can not but also than then them they their there these those which who "
    "whom whose what when where while into onto over under about after before since until upon "
    "more most some such only other its his her hers him she you your our ours out off all any "
    "each both few many much very just even still yet again ever own same too said says say one "
    "two three new like because through during against between among within without toward "
    "towards per via now last first year years time times make made way well back take told "
    "including however according here how why did does done get got going want wants week "
    "day days today yesterday".split()
)
_STEM_LENGTH = 6  # a crude prefix stem: "negotiations" and "negotiating" share "negoti"
_PROSE_TERMS = 6  # content words; fewer and a line is a headline or label, too short to judge
_SHORT_LINE = 120  # characters; teaser headlines, kickers, bylines and dates are shorter
_LONG_BODY_LINE = 150  # characters; a line this long is an article paragraph, not a label
_MAX_TAIL_CUES = 25  # cue candidates examined, which keeps pathological inputs linear
_MAX_BACKTRACK_LINES = 12  # how far a tail may grow back over teaser cards before its cue


@dataclass(frozen=True, slots=True, kw_only=True)
class TextLine:
    """One line of a text: ``text[start:end]`` is its content, ``stop`` is after its line break."""

    start: int
    end: int
    stop: int
    content: str

    @property
    def is_blank(self) -> bool:
        """True when the line holds only whitespace."""
        return not self.content


def split_lines(text: str) -> tuple[TextLine, ...]:
    """The lines of ``text`` with exact offsets; ``\\r\\n``, ``\\n`` and ``\\r`` all end a line.

    ``content`` is the line stripped of surrounding whitespace (no-break spaces included).
    """
    lines: list[TextLine] = []
    position = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(_line(text, position, match.start(), match.end()))
        position = match.end()
    if position < len(text):
        lines.append(_line(text, position, len(text), len(text)))
    return tuple(lines)


def _line(text: str, start: int, end: int, stop: int) -> TextLine:
    return TextLine(start=start, end=end, stop=stop, content=text[start:end].strip())


def detect_furniture(text: str) -> tuple[Region, ...]:
    """The page-furniture regions of ``text``: sorted, non-overlapping, whole lines.

    Each region covers whole lines including their line breaks; a teaser tail runs to the end
    of the text. Neighbouring lines with the same rule form one region.
    """
    lines = split_lines(text)
    reasons: list[str | None] = [_line_rule(line.content) for line in lines]
    _mark_captions_before_credits(lines, reasons)
    terms = [_terms(line.content) for line in lines]
    started = _article_started_at(lines, reasons)
    bio_start = _author_bio_start(lines, started)
    tail_start = _teaser_tail_start(lines, reasons, terms, started)
    if bio_start is not None and (tail_start is None or bio_start < tail_start):
        bio_end = _author_bio_end(lines, reasons, terms, bio_start, tail_start)
        for index in range(bio_start, bio_end):
            reasons[index] = "author-bio"
    if tail_start is not None:
        for index in range(tail_start, len(lines)):
            reasons[index] = "teaser-tail"
    return _regions(lines, reasons)


def _line_rule(content: str) -> str | None:
    """The furniture rule one line matches on its own, or None."""
    if not content or len(content) > 700:
        return None
    if _CREDIT_PREFIX.match(content) and len(content) <= 400:
        return "credit"
    if (len(content) <= 160 and _CREDIT_LINE.search(content)
            and len(content.split()) <= _CREDIT_WORDS and not _SENTENCE_END.search(content)):
        return "credit"
    if _INLINE_CREDIT.search(content):
        return "caption"
    if len(content) <= 160 and _COPYRIGHT_LINE.match(content):
        return "copyright"
    if len(content) <= 250 and _is_reporting_credit(content):
        return "reporting-credit"
    if len(content) > _SHORT_LINE:
        return None
    keys = _cue_keys(content)
    if _is_file_name(content):
        return "file-name"
    if _matches(_SHARE_BAR, keys):
        return "share-bar"
    if _matches(_LANGUAGE_LINK, keys):
        return "language-link"
    if (len(content) <= 70 and _SECTION_PATH.match(content)) or _matches(_KICKER, keys):
        return "section-label"
    if _matches(_NAV_LINK, keys):
        return "nav-link"
    if _INLINE_TEASER.match(content) and len(content) <= 160:
        return "inline-teaser"
    if _METADATA.match(content) and len(content.split()) <= 10:
        return "metadata"
    return None


def _is_reporting_credit(content: str) -> bool:
    """"X contributed to this report." or "Reporting by Name in Place; Editing by Name"."""
    if _CONTRIBUTED.search(content):
        return True
    match = _REPORTING_BY.match(content)
    if match is None:
        return False
    words = _NAME_WORD.findall(match.group(1))
    return all(word[0].isupper() or word in _CREDIT_CONNECTORS for word in words)


def _cue_keys(content: str) -> tuple[str, ...]:
    """The line lower-cased, plus a variant with glued link texts split ("readingShow")."""
    plain = _TRAILING_PUNCTUATION.sub("", " ".join(_LEADING_BULLET.sub("", content).split()))
    split = _CAMEL_JOIN.sub(" ", plain)
    keys = (plain.lower().replace("’", "'"), split.lower().replace("’", "'"))
    return keys[:1] if keys[0] == keys[1] else keys


def _matches(pattern: re.Pattern[str], keys: Sequence[str]) -> bool:
    """Whether ``pattern`` matches any of the line's keys."""
    return any(pattern.match(key) for key in keys)


def _is_file_name(content: str) -> bool:
    """An image or file slug on its own line ("IMG_1234.jpg", "Screen-shot-2021-04-02-at-...")."""
    if len(content) < 6 or any(character.isspace() for character in content):
        return False
    if _IMAGE_FILE.match(content):
        return True
    parts = re.split(r"[-_]", content)
    return (len(parts) >= 4 and any(character.isdigit() for character in content)
            and any(character.isalpha() for character in content)
            and all(re.fullmatch(r"[A-Za-z0-9.]+", part) for part in parts))


def _mark_captions_before_credits(lines: Sequence[TextLine], reasons: list[str | None]) -> None:
    """A short line right above a credit line is the picture's caption."""
    for index in range(1, len(lines)):
        if reasons[index] != "credit":
            continue
        above = index - 1
        # One blank line may separate a wire caption (which carries a date) from its credit.
        dated_only = False
        if lines[above].is_blank and above > 0:
            above, dated_only = above - 1, True
        candidate = lines[above]
        if candidate.is_blank or reasons[above] is not None or len(candidate.content) > 250:
            continue
        if dated_only and not _DATE.search(candidate.content):
            continue
        if len(re.findall(r"[.!?](?:\s|$)", candidate.content)) <= 2:
            reasons[above] = "caption"


def _terms(content: str) -> tuple[str, ...]:
    """Content-word stems of a line, for lexical cohesion."""
    return tuple(word[:_STEM_LENGTH] for word in _WORD.findall(content.lower())
                 if word not in _STOPWORDS)


def _body_lines(lines: Sequence[TextLine], reasons: Sequence[str | None], stop: int) -> list[int]:
    """Indexes of the non-blank, non-furniture lines before ``stop``."""
    return [index for index in range(stop) if not lines[index].is_blank and reasons[index] is None]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Cohesion:
    """The article's vocabulary (from its lead) and how cohesive its later body paragraphs are."""

    vocabulary: frozenset[str]
    body_level: float

    def of(self, line_terms: Sequence[str]) -> float:
        """Share of a line's content words that the article's lead also uses."""
        if not line_terms:
            return 0.0
        return sum(term in self.vocabulary for term in line_terms) / len(line_terms)


def _cohesion(lines: Sequence[TextLine], terms: Sequence[tuple[str, ...]],
              body: Sequence[int]) -> _Cohesion:
    """Vocabulary of the first 40% of the body (by characters) and the rest's mean cohesion."""
    total = sum(len(lines[index].content) for index in body)
    vocabulary: set[str] = set()
    covered = 0
    rest_start = len(body)
    for position, index in enumerate(body):
        if covered >= 0.4 * total:
            rest_start = position
            break
        vocabulary.update(terms[index])
        covered += len(lines[index].content)
    frozen = frozenset(vocabulary)
    probe = _Cohesion(vocabulary=frozen, body_level=0.0)
    level = _weighted_cohesion(probe, lines, terms, body[rest_start:])
    return _Cohesion(vocabulary=frozen, body_level=level if level is not None else 0.3)


def _weighted_cohesion(cohesion: _Cohesion, lines: Sequence[TextLine],
                       terms: Sequence[tuple[str, ...]], indexes: Sequence[int]) -> float | None:
    """Character-weighted mean cohesion of the lines among ``indexes`` that are prose."""
    weighted = 0.0
    weight = 0
    for index in indexes:
        if len(terms[index]) >= _PROSE_TERMS:
            weighted += cohesion.of(terms[index]) * len(lines[index].content)
            weight += len(lines[index].content)
    return weighted / weight if weight else None


def _teaser_tail_start(lines: Sequence[TextLine], reasons: list[str | None],
                       terms: Sequence[tuple[str, ...]], started: int) -> int | None:
    """Index of the first line of the recirculation tail, or None when there is none.

    A cue that does not start the tail may still open a short teaser box inside the article
    (a cue and a list of headlines); those lines are marked ``teaser-box`` in ``reasons``.
    """
    cues = [index for index, line in enumerate(lines)
            if not line.is_blank and len(line.content) <= 60
            and _matches(_TAIL_CUE_LINE, _cue_keys(line.content))]
    examined = 0
    for position, cue in enumerate(cues):
        if cue <= started:
            continue  # the article has not started yet: a cue here is navigation
        examined += 1
        if examined > _MAX_TAIL_CUES:
            return None
        segment = _segment(lines, cues, position)
        cohesion = _cohesion(lines, terms, _body_lines(lines, reasons, cue))
        heading = _matches(_HEADING_CUE_LINE, _cue_keys(lines[cue].content))
        if _is_teaser_segment(lines, reasons, terms, cohesion, segment, heading=heading):
            return _extend_tail_back(lines, reasons, terms, cohesion, cue)
        _mark_teaser_box(lines, reasons, cue)
    return None


def _article_started_at(lines: Sequence[TextLine], reasons: Sequence[str | None]) -> int:
    """Index of the line by which two paragraphs (500+ characters) of article text have passed."""
    paragraphs = 0
    characters = 0
    for index, line in enumerate(lines):
        if reasons[index] is None and len(line.content) >= _LONG_BODY_LINE:
            paragraphs += 1
            characters += len(line.content)
            if paragraphs >= 2 and characters >= 500:
                return index
    return len(lines)


def _segment(lines: Sequence[TextLine], cues: Sequence[int], position: int) -> list[int]:
    """Non-blank, non-cue lines from a cue to the next cue that has text before it.

    Judging only up to the next cue keeps a genuine tail further down from making a stray
    mid-article cue look like the start of the tail.
    """
    cue = cues[position]
    end = len(lines)
    previous = cue
    for later in cues[position + 1:]:
        if any(not lines[index].is_blank for index in range(previous + 1, later)):
            end = later
            break
        previous = later
    # Lines up to ``previous`` are the cue and the cues stacked right under it.
    return [index for index in range(previous + 1, end) if not lines[index].is_blank]


def _is_teaser_segment(lines: Sequence[TextLine], reasons: Sequence[str | None],
                       terms: Sequence[tuple[str, ...]], cohesion: _Cohesion,
                       segment: Sequence[int], *, heading: bool) -> bool:
    """Whether the lines after a cue are teaser cards or about other topics than the article.

    ``heading`` is True for a module heading ("Related", "More from X"); a bare link text
    ("Read more") needs stronger evidence, as it is common inside articles too.
    """
    if not segment:
        return True
    # Headlines, kickers, dates, bylines and furniture: short lines that are not sentences.
    card_lines = sum(1 for i in segment if reasons[i] is not None or (
        len(lines[i].content) < _SHORT_LINE and not _SENTENCE_END.search(lines[i].content)))
    card_share = card_lines / len(segment)
    prose = [i for i in segment if reasons[i] is None and len(terms[i]) >= _PROSE_TERMS]
    level = _weighted_cohesion(cohesion, lines, terms, prose)
    if level is None:
        # No prose follows: a handful of short lines is a teaser list or a sign-up box.
        small = sum(len(lines[i].content) for i in segment) <= 1500
        return small and (heading or card_share >= 0.75)
    if level < 0.6 * cohesion.body_level:
        return True
    # Teaser cards are mostly short lines and their blurbs may touch the article's topic, but an
    # article that goes on is at least as cohesive as its earlier paragraphs.
    return heading and card_share >= 0.5 and level < cohesion.body_level


def _mark_teaser_box(lines: Sequence[TextLine], reasons: list[str | None], cue: int) -> None:
    """Mark a cue followed by two or more headline-shaped lines as an in-article teaser box."""
    headlines: list[int] = []
    for index in range(cue + 1, len(lines)):
        line = lines[index]
        if line.is_blank:
            continue
        if (reasons[index] is not None or len(line.content) >= _SHORT_LINE
                or _SENTENCE_END.search(line.content)):
            break
        headlines.append(index)
    if len(headlines) >= 2:
        for index in (cue, *headlines):
            reasons[index] = reasons[index] or "teaser-box"


def _extend_tail_back(lines: Sequence[TextLine], reasons: Sequence[str | None],
                      terms: Sequence[tuple[str, ...]], cohesion: _Cohesion, cue: int) -> int:
    """Start the tail at the furniture that opens the teaser card its cue closes ("keep reading").

    Walks back over furniture lines, headline-shaped short lines and off-topic paragraphs; the
    tail grows only as far back as a furniture line, so article paragraphs are never taken
    unless a credit, caption or label sits between them and the cue.
    """
    start = cue
    seen = 0
    index = cue - 1
    while index >= 0 and seen < _MAX_BACKTRACK_LINES:
        line = lines[index]
        if not line.is_blank:
            seen += 1
            if reasons[index] is not None:
                start = index
            elif len(line.content) < _SHORT_LINE:
                if _SENTENCE_END.search(line.content):
                    break  # a short sentence is article text, a teaser headline has no full stop
            elif cohesion.of(terms[index]) >= min(0.5 * cohesion.body_level, 0.15):
                break
        index -= 1
    return start


def _author_bio_start(lines: Sequence[TextLine], started: int) -> int | None:
    """Index of an "About the author(s)" heading once the article has started, or None."""
    for index in range(started + 1, len(lines)):
        content = lines[index].content
        if content and len(content) <= 40 and _matches(_BIO_HEADING, _cue_keys(content)):
            return index
    return None


def _author_bio_end(lines: Sequence[TextLine], reasons: Sequence[str | None],
                    terms: Sequence[tuple[str, ...]], start: int, limit: int | None) -> int:
    """End (exclusive line index) of the bio: the next paragraph about the article, or the end."""
    stop = len(lines) if limit is None else limit
    cohesion = _cohesion(lines, terms, _body_lines(lines, reasons, start))
    for index in range(start + 1, stop):
        content = lines[index].content
        if (reasons[index] is None and len(content) >= 2 * _LONG_BODY_LINE
                and cohesion.of(terms[index]) >= 0.8 * cohesion.body_level):
            return index
    return stop


def _regions(lines: Sequence[TextLine], reasons: Sequence[str | None]) -> tuple[Region, ...]:
    """Whole-line regions; a run of one rule (blank lines inside included) becomes one region."""
    regions: list[Region] = []
    open_reason: str | None = None
    open_start = open_stop = 0
    for line, reason in zip(lines, reasons, strict=True):
        if reason is None:
            if not line.is_blank and open_reason is not None:
                # Article text ends the run: a later line of the same rule starts a new region.
                regions.append(Region(start=open_start, end=open_stop,
                                      reason=f"furniture:{open_reason}"))
                open_reason = None
            continue
        if reason == open_reason:
            open_stop = line.stop
            continue
        if open_reason is not None:
            regions.append(Region(start=open_start, end=open_stop,
                                  reason=f"furniture:{open_reason}"))
        open_reason, open_start, open_stop = reason, line.start, line.stop
    if open_reason is not None:
        regions.append(Region(start=open_start, end=open_stop, reason=f"furniture:{open_reason}"))
    return tuple(regions)
