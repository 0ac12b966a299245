"""Word-level diff of two text outputs, as escaped HTML with <del> and <ins>.

Model output is untrusted: every token is HTML-escaped before it is wrapped, and the only
markup in the result is the <del>/<ins> we add.
"""

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Each token is a run of non-space characters with the whitespace that follows it, so the
# output keeps the original line breaks while the comparison ignores spacing.
TOKEN = re.compile(r"\S+\s*|\s+")

# SequenceMatcher is quadratic in the worst case; past this many words a diff would be slow
# to compute and unreadable anyway.
MAX_WORDS = 6000


@dataclass(frozen=True)
class WordDiff:
    html: SafeString
    only_in_first: int
    only_in_second: int
    too_long: bool = False

    @property
    def identical(self) -> bool:
        return not self.too_long and self.only_in_first == 0 and self.only_in_second == 0


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def word_diff(first: str, second: str, *, max_words: int = MAX_WORDS) -> WordDiff:
    """What the first text says that the second does not (<del>), and the reverse (<ins>)."""
    a_tokens, b_tokens = tokenize(first), tokenize(second)
    if len(a_tokens) > max_words or len(b_tokens) > max_words:
        return WordDiff(html=mark_safe(""), only_in_first=0, only_in_second=0, too_long=True)
    a_words = [token.strip() for token in a_tokens]
    b_words = [token.strip() for token in b_tokens]
    # autojunk would treat frequent words ("the", "a") as noise and misalign the diff.
    matcher = SequenceMatcher(None, a_words, b_words, autojunk=False)
    parts: list[str] = []
    only_a = only_b = 0
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            parts.append(escape("".join(b_tokens[b1:b2])))
            continue
        if op in ("delete", "replace"):
            only_a += sum(1 for word in a_words[a1:a2] if word)
            parts.append(f"<del>{escape(''.join(a_tokens[a1:a2]))}</del>")
        if op in ("insert", "replace"):
            only_b += sum(1 for word in b_words[b1:b2] if word)
            parts.append(f"<ins>{escape(''.join(b_tokens[b1:b2]))}</ins>")
    return WordDiff(html=mark_safe("".join(parts)), only_in_first=only_a, only_in_second=only_b)
