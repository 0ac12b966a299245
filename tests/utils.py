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


def rival_early_dir():
    """The rival-early dataset shipped in apps/datasets/data/, or the folder named by
    RIVAL_EARLY_DIR. Returns None when it is absent."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    folder = Path(os.environ.get("RIVAL_EARLY_DIR", root / "apps/datasets/data/rival-early"))
    return folder if (folder / "models.jsonl").exists() else None
