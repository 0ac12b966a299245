"""Who a visitor is, as far as the request can tell: their address behind trusted proxies, a
salted hash of it to store instead (the address itself is never stored), and fixed-window
rate limits counted in the cache (Redis in production, shared by all workers)."""

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


def client_ip(request) -> str:
    """The visitor's address. Behind N trusted proxies (TRUSTED_PROXIES), the Nth address from
    the right of X-Forwarded-For: the part a client cannot forge."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def address_group(ip: str) -> str:
    """The unit one visitor controls: an IPv6 address's /64 (one subscriber's usual
    allocation, so rotating through it gains nothing), an IPv4 address itself."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _salt(purpose: str) -> str:
    if purpose == "arena" and settings.ARENA_IP_SALT:
        return settings.ARENA_IP_SALT
    return f"{purpose}-ip:{settings.SECRET_KEY}"


def ip_hash(ip: str, *, purpose: str) -> str:
    """Salted hash of an address, one salt per purpose ("arena", "lab") so stored hashes of
    one feature cannot be joined with another's."""
    return hmac.new(_salt(purpose).encode(), (ip or "").encode(), hashlib.sha256).hexdigest()


def request_ip_hash(request, *, purpose: str) -> str:
    """The salted hash of this request's client address."""
    return ip_hash(client_ip(request), purpose=purpose)


def _hit(cache_key: str, window: int) -> int:
    """Count one hit on `cache_key`, atomically, in the "limits" cache (the Redis that never
    evicts, so filling the page cache cannot reset a count); the count so far in its window."""
    cache = caches["limits"]
    for _ in range(3):
        cache.add(cache_key, 0, timeout=window)
        try:
            return cache.incr(cache_key)
        except ValueError:
            # The window expired between add and incr; start a new one.
            continue
    return 1


def _rule(rule: str) -> tuple[int, int]:
    limit, window = (int(part) for part in rule.split("/"))
    return limit, window


def rate_limited(key: str, rule: str) -> bool:
    """Count one hit on `key` against a "count/seconds" rule (see _hit); True when this hit
    is over the limit."""
    limit, window = _rule(rule)
    return _hit(f"rate:{key}", window) > limit


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
    count = _hit(f"rate:{key}:{start}", window)
    return RateWindow(limit, window, count, max(1, round(start + window - now)))
