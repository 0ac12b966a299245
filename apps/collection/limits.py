"""Per-gateway concurrency and rate limits, shared by every worker process through Redis.

One Lua script takes a slot atomically: a semaphore of leased tokens (a sorted set scored by
lease expiry, so a killed worker's slot frees itself) and a sliding one-second window of request
start times (a sorted set scored by time). The clock is Redis's own `TIME`, so workers on
different machines agree.

Without Redis (the embedded default: local-memory cache, filesystem broker) the same limits
apply per worker process only, and a log line says so.
"""

import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from contextlib import contextmanager

from django.conf import settings

logger = logging.getLogger(__name__)

# Some slack on the window so that requests leaving a hair apart cannot land on the provider
# inside one second because of network jitter.
WINDOW_SLACK_MS = 50

ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_conc = tonumber(ARGV[2])
local lease_ms = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local window_ms = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= max_conc then
  return -1
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window_ms)
if redis.call('ZCARD', KEYS[2]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window_ms - now)
end
redis.call('ZADD', KEYS[1], now + lease_ms, ARGV[1])
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease_ms * 2)
redis.call('PEXPIRE', KEYS[2], window_ms * 2)
return 0
"""


class SlotUnavailable(Exception):
    """No slot within the wait: the caller hands the task back to the queue."""


def rate_window(requests_per_second: float) -> tuple[int, int]:
    """(requests allowed, window in ms): 5/s → 5 per 1000 ms; 0.5/s → 1 per 2000 ms."""
    if requests_per_second >= 1:
        return math.floor(requests_per_second), 1000 + WINDOW_SLACK_MS
    return 1, math.ceil(1000 / requests_per_second) + WINDOW_SLACK_MS


class RedisLimiter:
    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._acquire = self._redis.register_script(ACQUIRE)
        self._prefix = prefix

    def _keys(self, name: str) -> list[str]:
        return [f"{self._prefix}:gateway:{name}:slots", f"{self._prefix}:gateway:{name}:starts"]

    def try_acquire(self, name, token, max_concurrency, rps, lease) -> float:
        """0 when acquired, else seconds worth waiting before trying again."""
        limit, window_ms = rate_window(rps)
        args = [token, max_concurrency, int(lease * 1000), limit, window_ms]
        result = int(self._acquire(keys=self._keys(name), args=args))
        if result == 0:
            return 0
        return 0.02 if result < 0 else result / 1000

    def release(self, name: str, token: str) -> None:
        self._redis.zrem(self._keys(name)[0], token)


class LocalLimiter:
    """The same limits within one process, for setups without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}
        self._starts: dict[str, deque[float]] = {}

    def try_acquire(self, name, token, max_concurrency, rps, lease) -> float:
        limit, window_ms = rate_window(rps)
        now = time.monotonic()
        with self._lock:
            held = self._held.setdefault(name, set())
            if len(held) >= max_concurrency:
                return 0.02
            starts = self._starts.setdefault(name, deque())
            while starts and starts[0] <= now - window_ms / 1000:
                starts.popleft()
            if len(starts) >= limit:
                return max(0.001, starts[0] + window_ms / 1000 - now)
            held.add(token)
            starts.append(now)
            return 0

    def release(self, name: str, token: str) -> None:
        with self._lock:
            self._held.get(name, set()).discard(token)


_limiter = None
_limiter_lock = threading.Lock()


def get_limiter():
    global _limiter
    with _limiter_lock:
        if _limiter is None:
            if settings.REDIS_URL:
                prefix = settings.CACHES["default"].get("KEY_PREFIX") or "rival"
                _limiter = RedisLimiter(settings.REDIS_URL, prefix)
            else:
                logger.warning(
                    "No Redis (REDIS_URL unset): gateway concurrency and rate limits apply "
                    "per worker process only."
                )
                _limiter = LocalLimiter()
        return _limiter


@contextmanager
def gateway_slot(gateway, *, wait: float, lease: float):
    """Hold one of the gateway's slots for a call; SlotUnavailable after `wait` seconds."""
    limiter = get_limiter()
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while True:
        pause = limiter.try_acquire(
            gateway.name, token, gateway.max_concurrency, gateway.requests_per_second, lease
        )
        if pause == 0:
            break
        if time.monotonic() + pause > deadline:
            raise SlotUnavailable(f"gateway {gateway.name} is at its limits")
        # A little jitter so waiting workers do not retry in lockstep.
        time.sleep(pause + random.uniform(0, 0.01))
    try:
        yield
    finally:
        limiter.release(gateway.name, token)
