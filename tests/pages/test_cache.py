"""What visitors can put in the cache, and what the cache does when Redis is gone."""

import pytest
import redis
from django.conf import settings
from django.core.cache import caches

from rival.cache import FailOpenRedisCache
from rival.web.visitors import rate_limited
from tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db


def cached_page_keys() -> int:
    server = redis.Redis.from_url(settings.CACHES["default"]["LOCATION"])
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    return sum(1 for _ in server.scan_iter(f"{prefix}:*views.decorators.cache.cache_page*"))


def test_random_query_parameters_do_not_add_sitemap_cache_entries(client):
    AIModelFactory()
    first = client.get("/sitemap-models.xml")
    baseline = cached_page_keys()

    for n in range(30):
        page = client.get(f"/sitemap-models.xml?x={n}&utm_source=spam{n}")
        assert page.status_code == 200
        assert page.content == first.content
    client.get("/sitemap.xml?junk=1")
    client.get("/sitemap.xml?junk=2")

    assert baseline > 0
    assert cached_page_keys() <= baseline + 1  # + the index, once


@pytest.mark.parametrize("page", ["abc", "0", "-1", "01x", "٣"])
def test_a_sitemap_page_number_that_is_not_a_positive_integer_is_a_404(client, page):
    assert client.get(f"/sitemap-models.xml?p={page}").status_code == 404


def test_leading_zeros_and_page_one_share_one_cache_entry(client):
    AIModelFactory()
    for query in ("", "?p=1", "?p=001", "?p=1&p=1"):
        assert client.get(f"/sitemap-models.xml{query}").status_code == 200
    assert cached_page_keys() == 1


def test_a_page_beyond_the_last_is_a_404_and_is_not_cached(client):
    AIModelFactory()
    for n in range(2, 12):
        assert client.get(f"/sitemap-models.xml?p={n}").status_code == 404
    assert cached_page_keys() == 0


def test_a_cache_whose_redis_is_down_answers_like_a_miss():
    dead = FailOpenRedisCache(
        "redis://127.0.0.1:1/0",
        {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}},
    )
    assert dead.get("k", "fallback") == "fallback"
    dead.set("k", 1)
    assert dead.add("k", 1) is False
    assert dead.incr("hits") == 1
    assert dead.get_many(["a", "b"]) == {}
    assert dead.get_or_set("counts", lambda: 42) == 42


def test_rate_limit_counts_live_in_the_limits_cache_not_the_evictable_one():
    assert not rate_limited("visitor", "1/60")
    assert caches["limits"].get("rate:visitor") == 1
    assert caches["default"].get("rate:visitor") is None
    assert rate_limited("visitor", "1/60")
