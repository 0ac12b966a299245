"""Word-level diff of two text outputs, as escaped HTML with <del> and <ins>.

Model output is untrusted: every token is HTML-escaped before it is wrapped, and the only
markup in the result is the <del>/<ins> we add.
"""

import hashlib
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.core.cache import cache
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Each token is a run of non-space characters with the whitespace that follows it, so the
# output keeps the original line breaks while the comparison ignores spacing.
TOKEN = re.compile(r"\S+\s*|\s+")

# Runs of fewer common words than this, between two larger changes, are folded into them: a
# lone shared "the" or "to" splitting two rewritten sentences makes a diff unreadable.
MIN_COMMON_RUN = 3

# SequenceMatcher is quadratic in the worst case: two 6,000-word texts over a small
# vocabulary took a second of CPU, 3,000 words a tenth of that. Past this many words (or
# characters, checked first so that a huge answer is not even tokenized) a diff would be slow
# and unreadable anyway.
MAX_WORDS = 3000
MAX_CHARS = 60_000

# A diff depends only on the two contents, so a cached one stays right until either changes.
DIFF_CACHE_SECONDS = 24 * 3600


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


TOO_LONG = WordDiff(html=mark_safe(""), only_in_first=0, only_in_second=0, too_long=True)


def response_diff(first, second) -> WordDiff:
    """word_diff of two responses' contents, cached per pair of responses and version of their
    contents (a digest, so an edited response gets a fresh diff)."""
    digests = [hashlib.sha256(r.content.encode()).hexdigest()[:16] for r in (first, second)]
    key = f"compare:diff:{first.pk}:{second.pk}:{digests[0]}:{digests[1]}"
    diff = cache.get(key)
    if diff is None:
        diff = word_diff(first.content, second.content)
        cache.set(key, diff, DIFF_CACHE_SECONDS)
    return diff


def word_diff(
    first: str, second: str, *, max_words: int = MAX_WORDS, max_chars: int = MAX_CHARS
) -> WordDiff:
    """What the first text says that the second does not (<del>), and the reverse (<ins>)."""
    if len(first or "") > max_chars or len(second or "") > max_chars:
        return TOO_LONG
    a_tokens, b_tokens = tokenize(first), tokenize(second)
    if len(a_tokens) > max_words or len(b_tokens) > max_words:
        return TOO_LONG
    a_words = [token.strip() for token in a_tokens]
    b_words = [token.strip() for token in b_tokens]
    # autojunk would treat frequent words ("the", "a") as noise and misalign the diff.
    matcher = SequenceMatcher(None, a_words, b_words, autojunk=False)
    parts: list[str] = []
    only_a = only_b = 0
    for op, a1, a2, b1, b2 in _readable(matcher.get_opcodes()):
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


def _readable(opcodes):
    """Opcodes with short common runs between larger changes folded into one replacement."""

    def size(op) -> int:
        return max(op[2] - op[1], op[4] - op[3])

    merged: list[list] = []
    for index, (op, a1, a2, b1, b2) in enumerate(opcodes):
        if op == "equal" and 0 < index < len(opcodes) - 1:
            run = a2 - a1
            around = min(size(merged[-1]), size(opcodes[index + 1]))
            if run < MIN_COMMON_RUN and run < around:
                op = "replace"
        if op != "equal" and merged and merged[-1][0] != "equal":
            merged[-1][0] = "replace"
            merged[-1][2], merged[-1][4] = a2, b2
        else:
            merged.append([op, a1, a2, b1, b2])
    return merged
