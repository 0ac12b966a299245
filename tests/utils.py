import time


def wait_for(predicate, timeout: float = 30, interval: float = 0.05):
    """Poll an observable condition until it holds; fail with a clear message on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
