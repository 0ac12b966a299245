"""Who a visitor is, as far as the request can tell: their address behind trusted proxies, a
salted hash of it to store instead (the address itself is never stored), and a fixed-window
rate limit counted in the cache (Redis in production, shared by all workers)."""

import hashlib
import hmac

from django.conf import settings
from django.core.cache import caches


def client_ip(request) -> str:
    """The visitor's address. Behind N trusted proxies (TRUSTED_PROXIES), the Nth address from
    the right of X-Forwarded-For: the part a client cannot forge."""
    proxies = settings.TRUSTED_PROXIES
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


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


def rate_limited(key: str, rule: str) -> bool:
    """Count one hit on `key` against a "count/seconds" rule, atomically in the "limits"
    cache (the Redis that never evicts, so filling the page cache cannot reset a count); True
    when this hit is over the limit."""
    cache = caches["limits"]
    limit, window = (int(part) for part in rule.split("/"))
    cache_key = f"rate:{key}"
    for _ in range(3):
        cache.add(cache_key, 0, timeout=window)
        try:
            return cache.incr(cache_key) > limit
        except ValueError:
            # The window expired between add and incr; start a new one.
            continue
    return False
