"""Visitor identity: which address a request comes from, and what counts as one visitor."""

import ipaddress

import pytest
from django.core.cache import caches
from django.test import RequestFactory

from rival.web import visitors


def request(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


@pytest.fixture
def behind_proxies(settings):
    settings.TRUSTED_PROXIES = [
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("127.0.0.1/32"),
    ]


def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(behind_proxies):
    assert visitors.client_ip(request("198.51.100.9", "203.0.113.5")) == "198.51.100.9"


def test_without_trusted_proxies_every_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert visitors.client_ip(request("10.0.0.2", "203.0.113.5")) == "10.0.0.2"


def test_the_first_untrusted_hop_from_the_right_is_the_client(behind_proxies):
    # The client forged "1.2.3.4"; its real address was appended by our two proxies.
    chain = "1.2.3.4, 203.0.113.7, 10.1.1.1"
    assert visitors.client_ip(request("127.0.0.1", chain)) == "203.0.113.7"


def test_a_trusted_peer_without_forwarded_for_is_the_client(behind_proxies):
    assert visitors.client_ip(request("10.0.0.3")) == "10.0.0.3"


def test_garbage_in_the_chain_stops_at_the_last_trusted_hop(behind_proxies):
    assert visitors.client_ip(request("10.0.0.3", "203.0.113.7, not-an-ip")) == "10.0.0.3"


def test_ipv6_addresses_of_one_64_are_one_visitor():
    same = visitors.ip_group("2001:db8:1:2::1"), visitors.ip_group("2001:db8:1:2:ffff::9")
    assert same[0] == same[1] == "2001:db8:1:2::/64"
    assert visitors.ip_group("2001:db8:1:3::1") != same[0]
    assert visitors.ip_hash("2001:db8:1:2::1", purpose="arena") == visitors.ip_hash(
        "2001:db8:1:2:abcd::1", purpose="arena"
    )


def test_ipv4_addresses_are_one_visitor_each():
    assert visitors.ip_group("203.0.113.7") == "203.0.113.7"
    assert visitors.ip_hash("203.0.113.7", purpose="arena") != visitors.ip_hash(
        "203.0.113.8", purpose="arena"
    )
    assert visitors.ip_group("::ffff:203.0.113.7") == "203.0.113.7"


def test_trusted_proxies_as_a_hop_count_is_refused(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    import rival.settings as rival_settings

    monkeypatch.setenv("TRUSTED_PROXIES", "1")
    with pytest.raises(ImproperlyConfigured, match="CIDR|networks"):
        rival_settings._networks("TRUSTED_PROXIES")


def test_concurrent_hits_never_pass_more_than_the_limit():
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    start = Barrier(24)

    def hit(n: int) -> bool:
        start.wait()
        return visitors.rate_limited_any(("crowd:ip", "10/60"), (f"crowd:session:{n}", "5/60"))

    with ThreadPoolExecutor(24) as pool:
        limited = list(pool.map(hit, range(24)))

    assert limited.count(False) == 10
    assert caches["limits"].get("rate:crowd:ip") == 24


def test_a_hit_over_the_first_limit_counts_nothing_against_the_next():
    assert not visitors.rate_limited_any(("first:ip", "1/60"), ("first:session", "5/60"))
    assert visitors.rate_limited_any(("first:ip", "1/60"), ("first:session", "5/60"))

    assert caches["limits"].get("rate:first:session") == 1


def test_a_hit_over_a_later_limit_is_refused_too():
    assert not visitors.rate_limited_any(("later:ip", "5/60"), ("later:session", "1/60"))
    assert visitors.rate_limited_any(("later:ip", "5/60"), ("later:session", "1/60"))


def test_every_count_expires_with_its_window():
    visitors.rate_limited_any(("window:ip", "5/60"), ("window:session", "5/30"))
    client = caches["limits"]._cache.get_client(write=True)
    ttl = {
        name: client.ttl(caches["limits"].make_key(f"rate:window:{name}"))
        for name in ("ip", "session")
    }

    assert 55 <= ttl["ip"] <= 60 and 25 <= ttl["session"] <= 30


def test_a_count_left_without_a_window_gets_one_on_its_next_hit():
    caches["limits"].set("rate:stuck", 3, timeout=None)
    visitors.rate_limited("stuck", "5/60")
    client = caches["limits"]._cache.get_client(write=True)

    assert caches["limits"].get("rate:stuck") == 4
    assert 0 < client.ttl(caches["limits"].make_key("rate:stuck")) <= 60
