"""What a text typed by a person (or sent by an app) may hold, and the check of it.

Every text field of a command says its rule once, in its metadata (``domain.inputs``):
how long it may be, counted in characters (code points: 2,000 Chinese characters are
2,000, not 6,000 bytes), and whether it is free text (line breaks and tabs allowed) or one
line (codes, ids, an address). Any rule refuses what no store, log or XML listing can hold
safely: control characters (a NUL is refused by PostgreSQL, and would wedge the case),
lone surrogates (not valid Unicode: the UTF-8 encoders of the Temporal client and the
database fail on them), and the noncharacters U+FFFE/U+FFFF and U+FDD0–U+FDEF (not
allowed in XML). Everything else is allowed: Chinese, emoji, any script.

A line break is "\\n", or "\\r\\n" as browsers send a textarea; a lone "\\r" is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class TextRule:
    max_length: int  # in characters
    multiline: bool = False  # free text: line breaks and tabs allowed
    # A list of texts (photo references): at most this many items, each under the rule.
    max_items: int = 0

    def __post_init__(self) -> None:
        if self.max_length < 1 or self.max_items < 0:
            raise ValueError(f"a text rule needs a positive length: {self}")


# The kinds of text a command carries; each field names its own in domain/commands.py.
FREE_TEXT = TextRule(2000, multiline=True)  # a note, a reason, what was done, a message
DESCRIPTION = TextRule(4000, multiline=True)  # a report's description (a hotline call's notes)
CODE = TextRule(64)  # a category, grid, condition or department code; a case or user id
LINE = TextRule(300)  # one line of words: an address
PHOTOS = TextRule(2048, max_items=20)  # photo ids (sha256:…) or links to pictures elsewhere

# Refused under any rule: C0 and C1 controls but tab, line feed and carriage return; lone
# surrogates (not valid Unicode); the noncharacters XML does not allow.
_REFUSED_RANGES = (
    (0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F),
    (0xD800, 0xDFFF),
    (0xFDD0, 0xFDEF), (0xFFFE, 0xFFFF),
)  # fmt: skip
# Refused in one line besides: tab, line breaks, the Unicode line/paragraph separators.
_LINE_BREAKING = (0x09, 0x0A, 0x0D, 0x2028, 0x2029)
_REFUSED = "".join(f"{chr(low)}-{chr(high)}" for low, high in _REFUSED_RANGES)
_REFUSED_FREE = re.compile(f"[{_REFUSED}]|\r(?!\n)")
_REFUSED_LINE = re.compile(f"[{_REFUSED}{''.join(map(chr, _LINE_BREAKING))}]")


def schema_pattern(rule: TextRule) -> str:
    """The rule's characters as a regular expression for the API's schema (JSON Schema's
    ``pattern``: ECMA-262, searched, so anchored here; written with ``\\uXXXX`` escapes,
    which Python's ``re`` reads alike): what ``text_problem`` lets through, so a client
    generating from the schema sends only what is accepted. Lone surrogates are left out
    of it: no regular expression engine of a schema validator can name them (Rust's
    refuses the whole pattern), and valid JSON text in UTF-8 cannot carry one but as an
    escape; ``text_problem`` refuses them all the same."""
    refused = "".join(f"{_u(low)}-{_u(high)}" for low, high in _REFUSED_RANGES if low != 0xD800)
    # "$" alone also matches before a final line feed in Python's re (and in tools built
    # on it, such as schema validators and generators); the look-ahead rules that out.
    end = f"(?!{_u(0x0A)})$"
    if rule.multiline:
        return f"^(?:[^{refused}{_u(0x0D)}]|{_u(0x0D)}{_u(0x0A)})*{end}"
    return f"^[^{refused}{''.join(map(_u, _LINE_BREAKING))}]*{end}"


def _u(code: int) -> str:
    return f"\\u{code:04x}"


def _what(char: str) -> str:
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"a lone surrogate {code}: not valid Unicode"
    if char in "\n\r\u2028\u2029":
        return f"a line break ({code})"
    if char == "\t":
        return "a tab (U+0009)"
    if char == "\x00":
        return "a NUL character (U+0000)"
    if char in "\ufffe\uffff" or "\ufdd0" <= char <= "\ufdef":
        return f"the noncharacter {code}"
    return f"the control character {code}"


def text_problem(value: object, rule: TextRule) -> str | None:
    """What is wrong with ``value`` under ``rule`` (None: nothing). Only the text's own
    form: whether an empty text is allowed is the decision's to say."""
    if not isinstance(value, str):
        return f"must be text, not {type(value).__name__}"
    if len(value) > rule.max_length:
        return f"is {len(value)} characters long; at most {rule.max_length} are allowed"
    found = (_REFUSED_FREE if rule.multiline else _REFUSED_LINE).search(value)
    if found is None:
        return None
    allowed = "only line breaks and tabs are allowed" if rule.multiline else "it must be one line"
    return f"contains {_what(found.group()[0])} at character {found.start() + 1}; {allowed}"


def items_problem(values: object, rule: TextRule) -> str | None:
    """What is wrong with a list of texts (None: nothing); the item is named by position."""
    if isinstance(values, str) or not isinstance(values, list | tuple):
        return f"must be a list of texts, not {type(values).__name__}"
    if rule.max_items and len(values) > rule.max_items:
        return f"has {len(values)} items; at most {rule.max_items} are allowed"
    for i, value in enumerate(values, 1):
        problem = text_problem(value, rule)
        if problem is not None:
            return f"item {i} {problem}"
    return None
