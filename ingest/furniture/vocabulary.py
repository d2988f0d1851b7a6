"""The words and shapes of page furniture: regular expressions for credits, captions, share bars,
navigation links, recirculation cues and the like (data, no logic)."""

# Word lists read best as text.
# ruff: noqa: SIM905
from __future__ import annotations

import re

from text import MONTH_ABBREVIATIONS, NAME_PARTICLES, alternation

CAMEL_JOIN = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
TRAILING_PUNCTUATION = re.compile(r"[\s:;.,!…»›>→|·•*-]+$")
LEADING_BULLET = re.compile(r"^[\s\-–—•·*>»|]+")
_MONTH = alternation(MONTH_ABBREVIATIONS) + "[a-z]*"  # "Jan", "January" (and "Janu": a dateline)
DATE = re.compile(rf"\b{_MONTH}\.? \d{{1,2}},? \d{{4}}\b|\b\d{{1,2}} {_MONTH}\.? \d{{4}}\b")

# Picture agencies and stock libraries as they appear in credits ("REUTERS/Name", "via Getty").
_AGENCY = (
    r"(?:REUTERS|Reuters|AP|AFP|EPA(?:-EFE)?|EFE|Getty(?: Images)?|GETTY(?: IMAGES)?|Bloomberg"
    r"|ANADOLU|Anadolu(?: Agency)?|XINHUA|Xinhua|TASS|KCNA|Sputnik|[Ss]hutterstock(?:\.com)?"
    r"|Alamy|PA(?: Wire| Images| Media)?|dpa|DPA|ZUMA(?: Press| Wire)?|SIPA|Sipa|NurPhoto|IMAGO"
    r"|imago|Unsplash|Pexels|Wikimedia Commons|Flickr|AAP|Kyodo|Yonhap|UPI|Pool|SOPA Images"
    r"|LightRocket|Abaca|Redux|Polaris|iStock(?:photo)?)"
)
CREDIT_LINE = re.compile(
    rf"^{_AGENCY}\s*/\s*(?:[A-Z][\w.'’-]*\s*){{1,5}}$"  # REUTERS/Manaure Quintero
    rf"|/\s*{_AGENCY}(?:\s+via\s+{_AGENCY})?\s*$"  # Jane Doe/AFP via Getty Images
    rf"|\bvia\s+(?:{_AGENCY}|[\w-]+\.(?:com|org|net))\s*$"  # ... via shutterstock.com
    r"|^\(?(?:AP|AFP|Reuters|EPA) (?:Photo|Foto|Images?)\s*/"
    r"|^(?:[Pp]hoto(?:graph)?s?|[Ii]mages?|[Pp]ictures?)\s+(?:by|courtesy of)\s+\S"
    r"|^(?:[Cc]redits?|[Pp]hoto courtesy(?: of)?|[Cc]ourtesy(?: of)?|[Ss]ource)\s*:"
)
# Reporting credits at the foot of wire copy ("Reporting by X; Editing by Y").
CONTRIBUTED = re.compile(
    r"\b(?:contributed|contributing)(?: reporting)? to this (?:report|story|article)\.?$"
)
REPORTING_BY = re.compile(
    r"^\(?(?:[Aa]dditional )?(?:[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Rr]esearch)"
    r"(?: and (?:writing|editing))? by (.+?)\)?\.?$"
)
# The only lower-case words a list of names and places in a reporting credit contains.
CREDIT_CONNECTORS = frozenset("in and from at with by editing writing reporting additional".split()) | NAME_PARTICLES
CREDIT_WORDS = 12  # a credit line is a name list, not a sentence ("Reuters/Ipsos poll shows ...")
COPYRIGHT_LINE = re.compile(
    r"^(?:©|\([cC]\)\s|[Cc]opyright\s+(?:©\s*|\([cC]\)\s*)?\d{4}|[Aa]ll rights reserved)"
)
# "Photos: ...", "Top image credit: ...", "Featured photo by: ..." may carry a long description.
CREDIT_PREFIX = re.compile(
    r"^(?:(?:top|featured?|header|lead|main|cover|hero|banner)\s+)?"
    r"(?:photo(?:graph)?s?|images?|pictures?|pics?|video|graphics?|illustrations?|artwork)"
    r"\s*(?:credits?|by|courtesy(?: of)?|source)?\s*[:|]",
    re.IGNORECASE,
)
# A caption that carries its own credit at the end of the line.
INLINE_CREDIT = re.compile(
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
SHARE_BAR = re.compile(rf"^{_SHARE_ITEM}(?:\s*[|·•,/]?\s*{_SHARE_ITEM})*$")
_SECTION_PART = r"[A-Z][\w&'’.-]*(?: (?:[A-Z&][\w&'’.-]*|of|and|the|in|on|for|de|la|y)){0,3}"
SECTION_PATH = re.compile(rf"^{_SECTION_PART}(?:(?:\s*[|›»]\s*|\s[>/]\s){_SECTION_PART})+$")
KICKER = re.compile(
    r"^(?:analysis|opinion|commentary|editorial|explainer|exclusive|breaking(?: news)?"
    r"|live(?: updates)?|sponsored(?: content)?|advertisement|advertising|paid (?:content|post)"
    r"|partner content|promoted|fact check|watch|listen|video|photos?|gallery|podcast)$"
)
_LANGUAGE = (
    r"(?:español|espanol|english|inglés|ingles|français|francais|french|spanish|deutsch|german"
    r"|português|portugues|portuguese|italiano|italian|arabic|chinese|russian|ukrainian)"
)
LANGUAGE_LINK = re.compile(
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
NAV_LINK = re.compile(rf"^{_NAV}(?:\s*[|·•/]?\s*{_NAV})*$")
INLINE_TEASER = re.compile(
    r"^(?:read more|read also|also read|see also|related|recommended|read next|more on this story"
    r"|watch|listen)\s*[:|»>→–—-]\s*\S",
    re.IGNORECASE,
)
METADATA = re.compile(
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
TAIL_CUE_LINE = re.compile(rf"^{_TAIL_CUE}(?:{_CUE_JOIN}{_TAIL_CUE})*$")
HEADING_CUE_LINE = re.compile(
    rf"^(?:{_TAIL_CUE}{_CUE_JOIN})*{_HEADING_CUE}(?:{_CUE_JOIN}{_TAIL_CUE})*$"
)
BIO_HEADING = re.compile(
    r"^(?:about (?:the |this )?(?:authors?|writers?|contributors?|reporters?)"
    r"|(?:the )?authors? (?:bio(?:graphy)?|information)|contributors?)$"
)
IMAGE_FILE = re.compile(
    r"^[\w.-]+\.(?:jpe?g|png|gif|webp|svg|tiff?|bmp|heic|avif|mp4|mov|pdf)$"
    r"|^(?:IMG|DSC[FN]?|PXL|GettyImages|shutterstock|screen[-_]?shot|screenshot)[-_ ]?\d",
    re.IGNORECASE,
)
