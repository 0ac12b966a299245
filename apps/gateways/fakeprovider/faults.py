"""Which fault a request to the fake provider gets (see the package docstring)."""

import hashlib
import re

FAULT_KINDS = ("429", "500", "401", "timeout", "malformed", "cut")
MARKER = re.compile(r"\[\[fault:(?P<kind>[a-z0-9]+)(?::(?P<times>\d+))?\]\]")


def parse_faults(spec: str) -> dict[str, float]:
    """`"429=0.05,cut=0.02"` → `{"429": 0.05, "cut": 0.02}`; unknown kinds are an error."""
    rates: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (spec or "").split(","))):
        kind, _, rate = part.partition("=")
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(FAULT_KINDS)}")
        rates[kind] = float(rate or 1)
    if sum(rates.values()) > 1:
        raise ValueError("fault rates add up to more than 1")
    return rates


def fault_for(rates: dict[str, float], seed: int, model: str, prompt: str, attempt: int) -> str:
    """The fault for one request: its prompt's marker if any, else a draw from the rates."""
    marker = MARKER.search(prompt)
    if marker:
        times = marker["times"]
        if times is None or attempt <= int(times):
            return marker["kind"]
        return ""
    if not rates:
        return ""
    digest = hashlib.sha256(f"{seed}\0{model}\0{prompt}\0{attempt}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    for kind, rate in rates.items():
        if draw < rate:
            return kind
        draw -= rate
    return ""
