"""Who a visitor is, as far as the request can tell: their address behind trusted proxies, the
group it belongs to (an IPv4 address, an IPv6 /64), a salted hash of that group to store
instead (the address itself is never stored), and a fixed-window rate limit counted in the
cache (Redis in production, shared by all workers)."""

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches


def login_name(request, credentials: dict | None) -> str | None:
    """The name a login attempt is for, whichever form sent it: the admin's "username" or the
    site's sign-in (allauth), whose "login" field holds an email address."""
    credentials = credentials or {}
    data = request.POST if request is not None else {}
    for field in ("username", "email", "login"):
        value = credentials.get(field) or data.get(field)
        if value:
            return str(value)
    return None


# One IPv6 customer usually holds a whole /64: counting its addresses one by one would give a
# single visitor 2^64 voices.
IPV6_GROUP_PREFIX = 64


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address) -> bool:
    if address is None:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_ip(request) -> str:
    """The visitor's address. Only when the peer (REMOTE_ADDR) is one of TRUSTED_PROXIES is
    X-Forwarded-For believed: walked from the right, skipping hops inside trusted networks,
    the first untrusted one is the client. Anyone else's X-Forwarded-For is ignored."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not _trusted(_address(peer)):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            # Garbage where an address should be: the proxies wrote nothing past this point
            # that we can trust, so the last trusted hop is the best we know.
            return peer
        if not _trusted(address):
            return str(address)
        peer = str(address)
    return peer


def ip_group(ip: str) -> str:
    """The unit limits and hashes count: an IPv4 address as is, an IPv6 address as its /64
    network (an IPv4-mapped IPv6 address as the IPv4 one). Unparseable input stays as given."""
    address = _address(ip or "")
    if address is None:
        return ip or ""
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_GROUP_PREFIX}", strict=False))
    return str(address)


def _salt(purpose: str) -> str:
    if purpose == "arena" and settings.ARENA_IP_SALT:
        return settings.ARENA_IP_SALT
    return f"{purpose}-ip:{settings.SECRET_KEY}"


def ip_hash(ip: str, *, purpose: str) -> str:
    """Salted hash of an address's group (`ip_group`), one salt per purpose ("arena", "lab")
    so stored hashes of one feature cannot be joined with another's."""
    return hmac.new(_salt(purpose).encode(), ip_group(ip).encode(), hashlib.sha256).hexdigest()


def request_ip_hash(request, *, purpose: str) -> str:
    """The salted hash of this request's client address group."""
    return ip_hash(client_ip(request), purpose=purpose)


# One hit on each counter (KEYS) in turn, each against its limit and window in seconds
# (ARGV: limit, window, limit, window, …), stopping after the first one over its limit; the
# counts so far. One script is one Redis command: atomic under concurrent requests, and one
# round trip for all of a request's limits.
HITS = """
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[2 * i]) end
  counts[i] = count
  if count > tonumber(ARGV[2 * i - 1]) then break end
end
return counts
"""


def _hit(cache, cache_key: str, window: int) -> int:
    """One hit on `cache_key` in a cache that runs no script (the local-memory one)."""
    for _ in range(3):
        cache.add(cache_key, 0, timeout=window)
        try:
            return cache.incr(cache_key)
        except ValueError:
            # The window expired between add and incr; start a new one.
            continue
    return 1


def _hits(counters: list[tuple[str, int, int]]) -> list[int]:
    """Count one hit on each (cache key, limit, window) in order, stopping after the first
    one over its limit (the later ones are not counted); the counts so far. Counted in the
    "limits" cache (the Redis that never evicts, so filling the page cache cannot reset a
    count), atomically and in one round trip (HITS). With Redis down every count is 1
    (rival/cache.py: limits fail open)."""
    cache = caches["limits"]
    if hasattr(cache, "run_script"):
        keys = [key for key, _, _ in counters]
        args = [value for _, limit, window in counters for value in (limit, window)]
        return cache.run_script(HITS, keys, args, fallback=[1] * len(counters))
    counts = []
    for key, limit, window in counters:
        counts.append(_hit(cache, key, window))
        if counts[-1] > limit:
            break
    return counts


def _rule(rule: str) -> tuple[int, int]:
    limit, window = (int(part) for part in rule.split("/"))
    return limit, window


def rate_limited(key: str, rule: str) -> bool:
    """Count one hit on `key` against a "count/seconds" rule (see _hits); True when this hit
    is over the limit."""
    return rate_limited_any((key, rule))


def rate_limited_any(*limits: tuple[str, str]) -> bool:
    """Count one hit on each (key, "count/seconds" rule) in order, in one atomic round trip;
    True when one of them is over its limit. The keys after that one are not counted: a
    visitor refused by their address's limit spends nothing of their session's."""
    counters = [(f"rate:{key}", *_rule(rule)) for key, rule in limits]
    counts = _hits(counters)
    return any(count > limit for count, (_, limit, _) in zip(counts, counters, strict=False))


@dataclass(frozen=True)
class RateWindow:
    """One hit counted in a clock-aligned window, with what a client may be told about it."""

    limit: int
    window: int
    count: int
    resets_in: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def rate_window(key: str, rule: str) -> RateWindow:
    """Like rate_limited, in windows aligned to the clock so the time left in the current one
    is known without asking the cache (for RateLimit and Retry-After headers)."""
    limit, window = _rule(rule)
    now = time.time()
    start = int(now // window) * window
    count = _hits([(f"rate:{key}:{start}", limit, window)])[0]
    return RateWindow(limit, window, count, max(1, round(start + window - now)))
