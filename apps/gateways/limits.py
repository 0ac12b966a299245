"""Per-gateway concurrency and rate limits, shared by every worker process through Redis.

One Lua script takes a slot atomically from two sorted sets per gateway:

- a semaphore of leased tokens, scored by lease expiry, so a killed worker's slot frees itself;
- a sliding window of requests. A request counts from the moment its slot is taken until one
  window after the provider has *received* it (`request_sent()`, called by the gateway client
  once response headers arrive). Counting from the acquire time alone is not enough: requests
  leave a variable few milliseconds after the slot is granted, and two of them granted a
  window apart can land on the provider less than a window apart.

The clock is Redis's own `TIME`, so workers on different machines agree.

Without Redis (the embedded default: local-memory cache, filesystem broker) the same limits
apply per worker process only, and a log line says so.
"""

import logging
import math
import random
import threading
import time
import uuid
from contextlib import contextmanager

from apps.gateways.base import TransientGatewayError
from apps.gateways.shared import ProcessStore

logger = logging.getLogger(__name__)

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
  return math.max(1, math.min(50, tonumber(oldest[2]) + window_ms - now))
end
redis.call('ZADD', KEYS[1], now + lease_ms, ARGV[1])
redis.call('ZADD', KEYS[2], now + lease_ms, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease_ms * 2)
redis.call('PEXPIRE', KEYS[2], lease_ms * 2 + window_ms)
return 0
"""

# Mark a request as received by the provider: from now it counts for one more window.
SENT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
return 0
"""


class SlotUnavailable(TransientGatewayError):
    """No slot within the wait: the caller hands the task back to the queue, or gives up."""


def rate_window(requests_per_second: float) -> tuple[int, int]:
    """(requests allowed, window in ms): 5/s → 5 per 1000 ms; 0.5/s → 1 per 2000 ms."""
    if requests_per_second >= 1:
        return math.floor(requests_per_second), 1000
    return 1, math.ceil(1000 / requests_per_second)


class RedisLimiter:
    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._errors = redis.RedisError
        self._acquire = self._redis.register_script(ACQUIRE)
        self._sent = self._redis.register_script(SENT)
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

    # Marking a request sent and releasing its slot come after the provider has the request
    # (or answered it): an error here must not lose a paid-for answer. Without Redis the slot
    # and the request's place in the window expire by themselves at the slot's lease.
    def sent(self, name: str, token: str) -> None:
        try:
            self._sent(keys=self._keys(name)[1:], args=[token])
        except self._errors as exc:
            logger.warning("gateway %s: could not mark a request sent (%s)", name, exc)

    def release(self, name: str, token: str) -> None:
        try:
            self._redis.zrem(self._keys(name)[0], token)
        except self._errors as exc:
            logger.warning("gateway %s: slot not released, it expires at its lease (%s)", name, exc)


class LocalLimiter:
    """The same limits within one process, for setups without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}
        self._starts: dict[str, dict[str, float]] = {}

    def try_acquire(self, name, token, max_concurrency, rps, lease) -> float:
        limit, window_ms = rate_window(rps)
        window = window_ms / 1000
        now = time.monotonic()
        with self._lock:
            held = self._held.setdefault(name, set())
            if len(held) >= max_concurrency:
                return 0.02
            starts = self._starts.setdefault(name, {})
            for other, at in list(starts.items()):
                if at <= now - window:
                    del starts[other]
            if len(starts) >= limit:
                return max(0.001, min(0.05, min(starts.values()) + window - now))
            held.add(token)
            starts[token] = now + lease
            return 0

    def sent(self, name: str, token: str) -> None:
        with self._lock:
            starts = self._starts.setdefault(name, {})
            if token in starts:
                starts[token] = time.monotonic()

    def release(self, name: str, token: str) -> None:
        with self._lock:
            self._held.get(name, set()).discard(token)


_limiter = ProcessStore(
    RedisLimiter,
    LocalLimiter,
    without_redis="No Redis (REDIS_URL unset): gateway concurrency and rate limits apply "
    "per worker process only.",
)


def get_limiter():
    return _limiter.get()


_current = threading.local()


def request_sent() -> None:
    """Called by gateway clients once the provider has answered with headers: the request
    has arrived, so its place in the rate window can start ageing. A no-op outside a slot."""
    slot = getattr(_current, "slot", None)
    if slot is not None and not slot["sent"]:
        slot["sent"] = True
        slot["limiter"].sent(slot["name"], slot["token"])


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
    _current.slot = {"limiter": limiter, "name": gateway.name, "token": token, "sent": False}
    try:
        yield
    finally:
        # Failed before headers (timeout, refused connection): count it from now, to be safe.
        request_sent()
        _current.slot = None
        limiter.release(gateway.name, token)
