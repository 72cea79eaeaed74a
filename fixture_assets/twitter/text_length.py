"""X's weighted character count, and cutting text to fit it.

X limits a post to 280 weighted characters. The rules come from the
twitter-text v3 configuration (``config/v3.json`` in twitter/twitter-text)
and its ``parseTweet``:

- the text is NFC-normalized first;
- a code point in U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F or
  U+2032-U+2037 weighs 1, and every other code point weighs 2;
- an emoji weighs 2;
- a URL weighs 23 whatever its length.

This module never counts less than X does, so a text it accepts is never
rejected as too long. It may count more in two cases. Emoji sequences such as
flags or ZWJ families weigh 2 per code point here, and a bare domain
("example.com") weighs at least 23, because X links it only if its top-level
domain is on X's list.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
URL_WEIGHT = 23
ELLIPSIS = "…"

# Code point ranges of weight 1 in twitter-text v3; all others weigh 2.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
# Emoji inside a light range. twemoji, which twitter-text uses for emoji,
# reads © and ® as emoji of weight 2.
_HEAVY_IN_LIGHT_RANGES = frozenset({0x00A9, 0x00AE})

# Characters X rejects in a post (twitter-text ``invalidChars``).
_INVALID_CHARS = re.compile("[\ufffe\ufeff\uffff\u202a-\u202e]")

_TRAILING_URL_PUNCTUATION = ".,;:!?'\")]}"
_URL_WITH_SCHEME = re.compile(r"https?://[^\s]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w@#$/.-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?::\d+)?(?:/[^\s]*)?",
    re.IGNORECASE | re.ASCII,
)
_HOST_WITH_TLD = re.compile(r"https?://(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?(?:[/?#]|$)", re.IGNORECASE | re.ASCII)


def normalize_text(text: str) -> str:
    """Return ``text`` in NFC without the characters X rejects."""
    return _INVALID_CHARS.sub("", unicodedata.normalize("NFC", text))


def char_weight(char: str) -> int:
    """Return the weight of one code point outside URLs."""
    code_point = ord(char)
    if code_point in _HEAVY_IN_LIGHT_RANGES:
        return 2
    for start, end in _LIGHT_RANGES:
        if start <= code_point <= end:
            return 1
    return 2


def plain_weight(text: str) -> int:
    """Return the weight of ``text`` counted character by character, without URL rules."""
    return sum(char_weight(char) for char in text)


def weighted_length(text: str) -> int:
    """Return the weighted length of ``text`` as X counts it for the 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end, url in _url_spans(text):
        total += plain_weight(text[position:start])
        total += _url_weight(url)
        position = end
    return total + plain_weight(text[position:])


def fits(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    return weighted_length(text) <= limit


def truncate(text: str, max_weight: int) -> str:
    """Cut ``text`` to at most ``max_weight``, ending with an ellipsis when anything was cut.

    Trailing spaces and punctuation before the ellipsis are removed, so
    "Borussia Mönchen" reads "Borussia…" rather than "Borussia …".
    """
    if weighted_length(text) <= max_weight:
        return text
    ellipsis_weight = plain_weight(ELLIPSIS)
    if max_weight < ellipsis_weight:
        return ""

    budget = max_weight - ellipsis_weight
    end = 0
    used = 0
    while end < len(text) and used + char_weight(text[end]) <= budget:
        used += char_weight(text[end])
        end += 1
    # A cut through a URL can make the rest count more than its characters,
    # so shorten until the whole result fits.
    while end > 0:
        candidate = text[:end].rstrip(" \t\n,;:-–—(/") + ELLIPSIS
        if weighted_length(candidate) <= max_weight:
            return candidate
        end -= 1
    return ELLIPSIS


def _url_spans(text: str) -> list[tuple[int, int, str]]:
    """Find the URLs of ``text`` as (start, end, url), without trailing punctuation."""
    spans: list[tuple[int, int, str]] = []
    taken_until = 0
    matches = sorted(
        [*_URL_WITH_SCHEME.finditer(text), *_BARE_DOMAIN.finditer(text)],
        key=lambda match: (match.start(), -match.end()),
    )
    for match in matches:
        if match.start() < taken_until:
            continue
        url = match.group(0).rstrip(_TRAILING_URL_PUNCTUATION)
        if not url:
            continue
        spans.append((match.start(), match.start() + len(url), url))
        taken_until = match.start() + len(url)
    return spans


def _url_weight(url: str) -> int:
    # X counts a linked URL as 23, and links http(s) URLs whose host ends in
    # a known top-level domain. Anything else may stay plain text, so count
    # the larger weight.
    # NOTE: any alphabetic top-level domain passes here, so a long http(s) URL
    # with a domain X does not know would count more on X than here.
    if _HOST_WITH_TLD.match(url):
        return URL_WEIGHT
    return max(URL_WEIGHT, plain_weight(url))
