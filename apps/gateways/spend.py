"""Daily spending caps in USD, shared by everything that calls a paid provider for a visitor
(the Prompt Lab, the arena's live battles).

A caller reserves the most a call can cost against every cap that applies to it (the site's,
the user's, the anonymous visitor's…) in one atomic step, before it enqueues the call; after
the call it settles the reservation with what the call really cost, which refunds the rest.
So concurrent callers at a cap never overspend: a reservation that would take any of its
counters past its cap takes nothing and is refused.

Amounts are counted in whole micro-dollars. Counters are per UTC day and expire after two.
With Redis (REDIS_URL) one Lua script checks and increments every counter atomically across
all processes; without it (the embedded default), counters live in the process that reserves
— the web process — so a refund from a worker process cannot reach them and every call there
counts at its maximum cost: stricter, never looser.
"""

import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal

from apps.gateways.shared import ProcessStore

MICRO = Decimal("0.000001")
COUNTER_TTL_SECONDS = 2 * 24 * 3600

RESERVE = """
local amount = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
for i, key in ipairs(KEYS) do
  local spent = tonumber(redis.call('GET', key) or '0')
  if spent + amount > tonumber(ARGV[i + 2]) then
    return i
  end
end
for _, key in ipairs(KEYS) do
  redis.call('INCRBY', key, amount)
  redis.call('EXPIRE', key, ttl)
end
return 0
"""

# KEYS[1] marks the reservation settled, so a second settle (a redelivered task) does nothing.
SETTLE = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  return 0
end
for i = 2, #KEYS do
  redis.call('INCRBY', KEYS[i], tonumber(ARGV[1]))
end
return 1
"""


class SpendRefused(Exception):
    """A reservation that would pass a cap; `scope` is the caller's key for that cap."""

    def __init__(self, scope: str):
        super().__init__(f"daily spending cap reached: {scope}")
        self.scope = scope


def to_micro(usd: Decimal | float | int) -> int:
    return int(Decimal(str(usd)).quantize(MICRO, rounding=ROUND_CEILING) / MICRO)


@dataclass
class Reservation:
    """What was taken from which counters; kept by the caller (as_record()) until settled."""

    id: str
    day: str
    scopes: list[str]
    reserved_micro: int
    settled: bool = field(default=False)

    @property
    def reserved_usd(self) -> Decimal:
        return Decimal(self.reserved_micro) * MICRO

    def settle(self, actual_usd: Decimal | float | int | None) -> None:
        """Replace the reservation by the call's real cost (None or 0: a full refund), at most
        once per reservation whatever the number of callers or processes. A real cost above
        the reservation is counted in full: it happened."""
        if self.settled:
            return
        self.settled = True
        actual = to_micro(actual_usd or 0)
        _store().settle(self, actual - self.reserved_micro)

    def refund(self) -> None:
        self.settle(0)

    def as_record(self) -> dict:
        return {
            "id": self.id,
            "day": self.day,
            "scopes": self.scopes,
            "reserved_micro": self.reserved_micro,
        }

    @classmethod
    def from_record(cls, record: dict) -> "Reservation":
        return cls(**record)


def spend_reserve(caps: dict[str, Decimal], max_usd: Decimal) -> Reservation:
    """Reserve `max_usd` against every cap in `caps` ({scope key: daily cap in USD}) for
    today (UTC), all or nothing. Raises SpendRefused naming the first cap it would pass."""
    return spend_reserve_parts(caps, [max_usd])[0]


def spend_reserve_parts(caps: dict[str, Decimal], parts: list[Decimal]) -> list[Reservation]:
    """Reserve several calls' maximum costs in one atomic step (all of them or none: a run of
    several models never holds half its reservations while another run is refused), as one
    reservation per part, each settled on its own."""
    scopes = list(caps)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    reservations = [
        Reservation(id=uuid.uuid4().hex, day=day, scopes=scopes, reserved_micro=to_micro(part))
        for part in parts
    ]
    total = Reservation(
        id=uuid.uuid4().hex,
        day=day,
        scopes=scopes,
        reserved_micro=sum(r.reserved_micro for r in reservations),
    )
    refused = _store().reserve(total, [to_micro(caps[scope]) for scope in scopes])
    if refused is not None:
        raise SpendRefused(scopes[refused])
    return reservations


def spent_today(scope: str) -> Decimal:
    """What `scope` has reserved or spent today (UTC), in USD."""
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return Decimal(_store().get(_counter(day, scope))) * MICRO


def _counter(day: str, scope: str) -> str:
    return f"spend:{day}:{scope}"


class RedisStore:
    def __init__(self, url: str, prefix: str):
        import redis

        self._redis = redis.Redis.from_url(url)
        self._reserve = self._redis.register_script(RESERVE)
        self._settle = self._redis.register_script(SETTLE)
        self._prefix = prefix

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def reserve(self, reservation: Reservation, limits: list[int]) -> int | None:
        keys = [self._key(_counter(reservation.day, s)) for s in reservation.scopes]
        args = [reservation.reserved_micro, COUNTER_TTL_SECONDS, *limits]
        result = int(self._reserve(keys=keys, args=args))
        return None if result == 0 else result - 1

    def settle(self, reservation: Reservation, delta: int) -> None:
        keys = [
            self._key(f"spend:settled:{reservation.id}"),
            *(self._key(_counter(reservation.day, s)) for s in reservation.scopes),
        ]
        self._settle(keys=keys, args=[delta, COUNTER_TTL_SECONDS])

    def get(self, name: str) -> int:
        return int(self._redis.get(self._key(name)) or 0)


class LocalStore:
    """The same counters within one process, for setups without Redis."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}
        self._settled: set[str] = set()

    def reserve(self, reservation: Reservation, limits: list[int]) -> int | None:
        keys = [_counter(reservation.day, s) for s in reservation.scopes]
        with self._lock:
            for index, (key, limit) in enumerate(zip(keys, limits, strict=True)):
                if self._counters.get(key, 0) + reservation.reserved_micro > limit:
                    return index
            for key in keys:
                self._counters[key] = self._counters.get(key, 0) + reservation.reserved_micro
        return None

    def settle(self, reservation: Reservation, delta: int) -> None:
        with self._lock:
            if reservation.id in self._settled:
                return
            self._settled.add(reservation.id)
            for scope in reservation.scopes:
                key = _counter(reservation.day, scope)
                self._counters[key] = self._counters.get(key, 0) + delta

    def get(self, name: str) -> int:
        with self._lock:
            return self._counters.get(name, 0)


_stores = ProcessStore(RedisStore, LocalStore)


def _store():
    return _stores.get()
