"""Links to the objects pages list by the dozen, without a reverse() per card.

`reverse()` walks the URL resolver on every call; a model page linking 130 responses spent
more time there than in its queries. `link(name, *slugs)` reverses each URL name once, with
markers in place of the arguments, and fills the markers in afterwards. Only for arguments
the URL converters take as they are (slugs and ids: `[-a-zA-Z0-9_]`), which need no quoting;
anything else goes through `reverse()`.
"""

import functools
import re
from collections.abc import Callable

from django.core.signals import setting_changed
from django.urls import reverse

# Digits, so that slug and int converters both accept it.
_MARK = "7309817324061"
_PLAIN = re.compile(r"[-a-zA-Z0-9_]+")


@functools.cache
def _parts(name: str, arity: int) -> tuple[str, ...]:
    return tuple(reverse(name, args=[f"{_MARK}{i}" for i in range(arity)]).split(_MARK))


def link(name: str, *args) -> str:
    """reverse(name, args=args), from a template of the URL reversed once per process."""
    values = [str(a) for a in args]
    if not all(_PLAIN.fullmatch(v) for v in values):
        return reverse(name, args=args)
    parts = _parts(name, len(values))
    out = [parts[0]]
    for i, value in enumerate(values):
        # parts[i + 1] starts with the marker's index digit(s); drop them.
        out += [value, parts[i + 1][len(str(i)) :]]
    return "".join(out)


def links_to(name: str, *first) -> Callable[[object], str]:
    """`lambda last: link(name, *first, last)`, the fixed arguments filled in once: for a list
    of links that differ in their last argument only (a model page's few hundred responses)."""
    values = [str(a) for a in first]
    if not all(_PLAIN.fullmatch(v) for v in values):
        return lambda last: link(name, *first, last)
    parts = _parts(name, len(values) + 1)
    out = [parts[0]]
    for i, value in enumerate(values):
        out += [value, parts[i + 1][len(str(i)) :]]
    head = "".join(out)
    tail = parts[-1][len(str(len(values))) :]

    def link_to(last) -> str:
        value = str(last)
        if not _PLAIN.fullmatch(value):
            return reverse(name, args=[*first, last])
        return f"{head}{value}{tail}"

    return link_to


def _urlconf_changed(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _parts.cache_clear()


setting_changed.connect(_urlconf_changed)
