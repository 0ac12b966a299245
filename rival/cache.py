"""A Redis cache that fails open.

The cache only ever saves work or counts visitors: when Redis is down or slow, a page should
be computed instead of failing with a 500. Every call that hits a Redis error returns what a
miss would (get: the default, add: False, incr: the delta, as if the count started now), logs
one warning, and for the next few seconds skips Redis altogether so that a dead server costs a
request nothing. What degrades: pages are computed on every request, and rate limits (counted
in the cache) let everything through until Redis is back. See README "Caching and Redis".
"""

import logging
import time

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# After a failure, calls skip Redis for this long, then the next one tries again.
RETRY_AFTER_SECONDS = 2.0


# INCRBY only if the key exists: Django's EXISTS then INCRBY is two round trips, and a key
# that expires between them comes back from INCRBY as a new count without a timeout.
INCR_EXISTING = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's client builds a new `redis.Redis` for every call, and its constructor fills a
    table of ~170 response callbacks: a noticeable share of a cached page's cost. A client
    only borrows connections from its pool per command, so one per pool serves every call."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}
        self._scripts = {}

    def run_script(self, source: str, keys: list, args: list):
        """Run a Lua script on the write server: EVALSHA, one round trip (the script is sent
        once more only when the server does not know it yet)."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.get_client(write=True).register_script(source)
        return script(keys=keys, args=args, client=self.get_client(write=True))

    def incr(self, key, delta):
        value = self.run_script(INCR_EXISTING, [key], [delta])
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return value

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._client(connection_pool=self._get_connection_pool(write))
            self._clients[index] = client
        return client


class FailOpenRedisCache(RedisCache):
    _down_until = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, operation: str, exc: Exception) -> None:
        if self._available():
            logger.warning(
                "cache unavailable (%s on %s): serving without it for %.0f s",
                type(exc).__name__,
                operation,
                RETRY_AFTER_SECONDS,
            )
        self._down_until = time.monotonic() + RETRY_AFTER_SECONDS

    def _call(self, operation: str, fallback, *args, **kwargs):
        if not self._available():
            return fallback
        try:
            return getattr(super(), operation)(*args, **kwargs)
        except redis.RedisError as exc:
            self._failed(operation, exc)
            return fallback

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        self._call("set", None, key, value, timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", delta, key, delta, version=version)

    def run_script(self, source: str, keys: list[str], args: list, *, fallback, version=None):
        """Run the Lua `source` atomically on the cache's server in one round trip, with
        `keys` made into this cache's keys (prefix and version); `fallback` when Redis
        fails. Redis runs a script as one command: no other client's command comes between
        its steps."""
        if not self._available():
            return fallback
        keys = [self.make_and_validate_key(key, version=version) for key in keys]
        try:
            return self._cache.run_script(source, keys, args)
        except redis.RedisError as exc:
            self._failed("run_script", exc)
            return fallback

    def delete(self, key, version=None):
        return self._call("delete", False, key, version=version)

    def delete_many(self, keys, version=None):
        self._call("delete_many", None, keys, version=version)
