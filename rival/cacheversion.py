"""The content version: one counter in the shared cache that changes whenever something a
public page shows changes (a response published, retired or written, the catalog edited, a
challenge edited, a leaderboard snapshot taken).

The anonymous page cache (rival/web/pagecache.py) keys every page on it, so a bump makes every
cached page a miss at once, and template fragments can key on it too. It lives here, below the
web layer, because models' signal handlers and services bump it.

Writes that bypass model signals (`QuerySet.update()`, `bulk_create`) call
`content_version_bump()` themselves.
"""

import contextlib
import time
from collections.abc import Callable, Hashable

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

CONTENT_VERSION_KEY = "content-version"


def content_version() -> int:
    """The current version. A missing counter (a fresh or evicted cache) starts from the clock,
    so it never returns to a number that older cache entries were stored under."""
    version = cache.get(CONTENT_VERSION_KEY)
    if version is None:
        cache.add(CONTENT_VERSION_KEY, time.time_ns() // 1000, timeout=None)
        version = cache.get(CONTENT_VERSION_KEY, 0)
    return version


def per_content_version[T](key: str, compute: Callable[[], T], version: int | None = None) -> T:
    """`compute()`, kept in the cache under `key` for the current content version (or the
    given one): recomputed after any write that changes what public pages show. For derived
    reads and page regions that depend on nothing else. FRAGMENT_CACHE_SECONDS only bounds how
    long a superseded version lingers; 0 turns this off (every call computes)."""
    seconds = settings.FRAGMENT_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    versioned = f"{key}:v{content_version() if version is None else version}"
    value = cache.get(versioned)
    if value is None:
        value = compute()
        cache.set(versioned, value, seconds)
    return value


# ((database, content version), {key: value}): what this process computed under the current
# version. Replaced whole when the version moves, never updated across versions, so a thread
# still working under an older version fills that version's dict, not the new one.
_in_process: list = [(None, {})]


def per_content_version_in_process[T](key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, kept in this process's memory for the current content version: for small
    reads that a page cached for no one (the arena: per visitor, `no-store`) makes on every
    request. One cache round trip (the version) and no pickling, where per_content_version
    takes two; each process computes a value once per version. `key` names everything else
    the value depends on (settings, the kind of visitor). Every caller gets the same object:
    it must not be changed. Computed on every call when the version cannot be read (the cache
    unreachable: content_version() gives 0) or FRAGMENT_CACHE_SECONDS is 0."""
    if settings.FRAGMENT_CACHE_SECONDS <= 0:
        return compute()
    # The version is read before the rows: a write that commits in between bumps it again on
    # commit, so what was computed from the older rows is never kept under the newest version.
    version = content_version()
    if not version:
        return compute()
    current = (connection.settings_dict["NAME"], version)
    remembered, values = _in_process[0]
    if remembered != current:
        values = {}
        _in_process[0] = (current, values)
    if key not in values:
        values[key] = compute()
    return values[key]


def _bump() -> None:
    # Increment first: the counter is almost always there, and reading it beforehand cost a
    # round trip per bump (two per stored response, a collection worker's hottest write).
    try:
        cache.incr(CONTENT_VERSION_KEY)
    except ValueError:
        # Missing (a fresh or evicted cache): start it from the clock, then count this change.
        content_version()
        # Evicted again between the two: the next read starts a newer count.
        with contextlib.suppress(ValueError):
            cache.incr(CONTENT_VERSION_KEY)


def content_version_bump() -> None:
    """Mark every cached page as out of date: now, and again when the surrounding transaction
    commits. The second bump matters: a page rendered between the first bump and the commit
    read the old rows, and must not stay cached under the new version. Outside a transaction
    (autocommit) the write has committed already, so one bump does: it was two in a row, a
    round trip more on every response a collection worker stores."""
    _bump()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_bump, robust=True)


def _changed(**kwargs) -> None:
    if kwargs.get("raw") or kwargs.get("action", "post").startswith("pre"):
        return
    content_version_bump()


def bump_on_change(*senders, delete: bool = True) -> None:
    """Bump the version whenever a row of these models is saved (or deleted, or has its
    many-to-many relations changed). Called from the apps' AppConfig.ready().

    `delete=False` for models deleted in bulk by housekeeping only (a delete receiver makes
    Django fetch every deleted row instead of one DELETE)."""
    for sender in senders:
        post_save.connect(_changed, sender=sender, weak=False)
        if delete:
            post_delete.connect(_changed, sender=sender, weak=False)
        for field in sender._meta.many_to_many:
            m2m_changed.connect(_changed, sender=field.remote_field.through, weak=False)
