"""Values kept in a process for the content version (rival/cacheversion.py)."""

from django.core.cache import cache

from rival.cacheversion import content_version_bump, per_content_version_in_process


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return compute, calls


def test_a_value_is_computed_once_per_content_version_and_key():
    compute, calls = counter()

    assert per_content_version_in_process("k", compute) == 1
    assert per_content_version_in_process("k", compute) == 1
    assert per_content_version_in_process(("k", True), compute) == 2, "another key, apart"

    content_version_bump()
    assert per_content_version_in_process("k", compute) == 3
    assert per_content_version_in_process(("k", True), compute) == 4
    assert len(calls) == 4


def test_a_flushed_cache_starts_a_new_version_and_forgets_every_value():
    compute, _ = counter()
    assert per_content_version_in_process("k", compute) == 1

    cache.clear()
    assert per_content_version_in_process("k", compute) == 2


def test_with_fragments_off_every_call_computes(settings):
    settings.FRAGMENT_CACHE_SECONDS = 0
    compute, calls = counter()
    per_content_version_in_process("k", compute)
    per_content_version_in_process("k", compute)
    assert len(calls) == 2


def test_with_the_cache_unreachable_every_call_computes(monkeypatch):
    # What rival/cache.py's client answers while Redis is down: misses, nothing stored.
    monkeypatch.setattr(cache, "get", lambda key, default=None, **kw: default)
    monkeypatch.setattr(cache, "add", lambda *args, **kwargs: False)
    compute, calls = counter()
    per_content_version_in_process("k", compute)
    per_content_version_in_process("k", compute)
    assert len(calls) == 2
