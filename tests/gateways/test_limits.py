import threading
import time
import uuid
from types import SimpleNamespace

import pytest

from apps.gateways import limits
from apps.gateways.limits import LocalLimiter, SlotUnavailable, gateway_slot, rate_window
from tests.faults.conftest import RedisServer


def gateway(**fields):
    return SimpleNamespace(
        name=f"limits-{uuid.uuid4().hex[:8]}",
        **{"max_concurrency": 2, "requests_per_second": 1000.0, **fields},
    )


def test_rates_below_one_per_second_become_one_per_longer_window():
    assert rate_window(5) == (5, 1000)
    assert rate_window(0.5) == (1, 2000)


@pytest.fixture(params=["redis", "local"])
def limiter(request, monkeypatch):
    if request.param == "local":
        monkeypatch.setattr(limits._limiter, "instance", LocalLimiter())
    else:
        monkeypatch.setattr(limits._limiter, "instance", None)
    return request.param


def test_no_more_slots_than_the_gateways_concurrency(limiter):
    gw = gateway(max_concurrency=2)
    with (
        gateway_slot(gw, wait=1, lease=10),
        gateway_slot(gw, wait=1, lease=10),
        pytest.raises(SlotUnavailable),
        gateway_slot(gw, wait=0.2, lease=10),
    ):
        pass
    with gateway_slot(gw, wait=1, lease=10):
        pass


def test_requests_per_second_hold_across_threads(limiter):
    gw = gateway(max_concurrency=10, requests_per_second=4)
    starts: list[float] = []

    def call():
        with gateway_slot(gw, wait=10, lease=10):
            starts.append(time.monotonic())
            limits.request_sent()

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    starts.sort()
    assert max(sum(1 for t in starts if s <= t < s + 1) for s in starts) <= 4
    assert starts[-1] - starts[0] >= 1


def test_an_answer_is_kept_when_redis_goes_away_during_the_call(monkeypatch):
    """The provider has the request (and is paid for it): Redis dying before the slot is
    marked sent and released must not turn the answer into an error; the slot expires at its
    lease instead."""
    server = RedisServer().start()
    try:
        monkeypatch.setattr(
            limits._limiter, "instance", limits.RedisLimiter(server.url(0), "rival-tests")
        )
        answer = None
        with gateway_slot(gateway(), wait=1, lease=10):
            server.stop()
            limits.request_sent()
            answer = "the paid-for answer"
        assert answer == "the paid-for answer"
    finally:
        server.stop()
