"""Daily spending caps: atomic reservations in the real Redis, under real concurrency."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from apps.gateways.spend import (
    Reservation,
    SpendRefused,
    spend_reserve,
    spend_reserve_parts,
    spent_today,
)


def _unique(name: str) -> str:
    # Counters live in Redis for the day; a fresh scope per test keeps tests independent.
    return f"test:{name}:{threading.get_ident()}:{id(object())}"


def test_concurrent_reservations_at_the_boundary_never_pass_the_cap():
    scope = _unique("site")
    barrier = threading.Barrier(24)

    def reserve(_):
        barrier.wait()
        try:
            return spend_reserve({scope: Decimal("1.00")}, Decimal("0.10"))
        except SpendRefused:
            return None

    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(reserve, range(24)))

    assert sum(o is not None for o in outcomes) == 10
    assert spent_today(scope) == Decimal("1.00")


def test_a_reservation_passing_any_cap_takes_nothing_from_the_others():
    site, user = _unique("site"), _unique("user")
    spend_reserve({user: Decimal("0.05")}, Decimal("0.04"))

    with pytest.raises(SpendRefused) as refused:
        spend_reserve({site: Decimal("10"), user: Decimal("0.05")}, Decimal("0.02"))

    assert refused.value.scope == user
    assert spent_today(site) == 0
    assert spent_today(user) == Decimal("0.04")


def test_settling_replaces_the_reservation_by_the_real_cost_once():
    scope = _unique("site")
    reservation = spend_reserve({scope: Decimal("1")}, Decimal("0.30"))

    again = Reservation.from_record(reservation.as_record())
    reservation.settle(Decimal("0.012345"))
    again.settle(Decimal("0.012345"))

    assert spent_today(scope) == Decimal("0.012345")
    spend_reserve({scope: Decimal("1")}, Decimal("0.98"))
    with pytest.raises(SpendRefused):
        spend_reserve({scope: Decimal("1")}, Decimal("0.01"))


def test_a_refund_gives_the_whole_reservation_back():
    scope = _unique("site")
    spend_reserve({scope: Decimal("0.5")}, Decimal("0.5")).refund()
    assert spent_today(scope) == 0
    assert spend_reserve({scope: Decimal("0.5")}, Decimal("0.5")).reserved_usd == Decimal("0.5")


def test_parts_are_reserved_together_and_settled_apart():
    scope = _unique("site")
    with pytest.raises(SpendRefused):
        spend_reserve_parts({scope: Decimal("1")}, [Decimal("0.6"), Decimal("0.6")])
    assert spent_today(scope) == 0

    first, second = spend_reserve_parts({scope: Decimal("1")}, [Decimal("0.4"), Decimal("0.6")])
    first.settle(Decimal("0.1"))
    second.refund()
    assert spent_today(scope) == Decimal("0.1")
