"""The offline demo gateway: deterministic, plausible answers with no network.

The same (model, prompt) always gives the same answer; different models give different
answers, and each answer has the shape the challenge asks for.
"""

import hashlib
import random
from html import escape

from apps.collection.gateways.base import Completion, CompletionRequest

PALETTES = [
    ("#0f172a", "#38bdf8", "#f472b6"),
    ("#1e1b4b", "#a78bfa", "#facc15"),
    ("#052e16", "#4ade80", "#f97316"),
    ("#3f0d12", "#fb7185", "#fde68a"),
    ("#111827", "#60a5fa", "#34d399"),
]

OPENERS = [
    "Here is a careful answer.",
    "Let's work through this step by step.",
    "Short version first, then the details.",
    "Good question — there are a few parts to it.",
    "I'll start with the key idea and build from there.",
]


def _rng(request: CompletionRequest) -> random.Random:
    digest = hashlib.sha256(f"{request.model_id}\0{request.prompt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _text(request: CompletionRequest, rng: random.Random) -> str:
    topic = request.prompt.strip().split("\n", 1)[0][:80]
    points = rng.sample(
        [
            "state the assumptions before the conclusion",
            "check the edge cases, not only the happy path",
            "prefer the simplest explanation that fits the facts",
            "measure before optimising",
            "write the answer for the reader, not for the writer",
            "say what would change the answer",
        ],
        k=3,
    )
    bullets = "\n".join(f"- {p.capitalize()}." for p in points)
    return (
        f"{rng.choice(OPENERS)}\n\n**Task:** {topic}\n\n{bullets}\n\n"
        f"In short: the answer depends on the details above, and I would {points[0]}."
    )


def _code(request: CompletionRequest, rng: random.Random) -> str:
    name = rng.choice(["solve", "answer", "run", "compute"])
    return (
        f"{rng.choice(OPENERS)}\n\n```python\ndef {name}(items):\n"
        f'    """Return the items sorted and without duplicates."""\n'
        f"    return sorted(set(items))\n\n\nprint({name}([3, 1, 2, 3]))\n```\n"
    )


def _svg(request: CompletionRequest, rng: random.Random) -> str:
    bg, fg, accent = rng.choice(PALETTES)
    circles = "".join(
        f'<circle cx="{rng.randint(20, 380)}" cy="{rng.randint(20, 280)}" '
        f'r="{rng.randint(8, 60)}" fill="{rng.choice([fg, accent])}" opacity="0.8"/>'
        for _ in range(rng.randint(4, 9))
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">'
        f'<rect width="400" height="300" fill="{bg}"/>{circles}</svg>'
    )


def _html(request: CompletionRequest, rng: random.Random) -> str:
    bg, fg, accent = rng.choice(PALETTES)
    title = escape(request.prompt.strip().split("\n", 1)[0][:60])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>body{{margin:0;font-family:system-ui;background:{bg};"
        f"color:{fg}}}main{{padding:2rem}}button{{background:{accent};border:0;padding:.6rem 1rem;"
        "border-radius:.4rem}}</style>\n</head>\n<body>\n<main>\n"
        f"<h1>{title}</h1>\n<p>A small page built for this challenge.</p>\n"
        '<button id="b">Click me</button> <span id="n">0</span>\n</main>\n'
        "<script>let n=0;document.getElementById('b').onclick=()=>"
        "{document.getElementById('n').textContent=++n};</script>\n</body>\n</html>\n"
    )


GENERATORS = {"text": _text, "code": _code, "svg": _svg, "html": _html}


class DemoClient:
    def complete(self, request: CompletionRequest) -> Completion:
        rng = _rng(request)
        content = GENERATORS.get(request.output_type, _text)(request, rng)
        tokens_in = max(1, len(request.prompt) // 4)
        tokens_out = max(1, len(content) // 4)
        return Completion(
            content=content,
            finish_reason="stop",
            latency_ms=rng.randint(400, 9000),
            ttft_ms=rng.randint(150, 1200),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            request_id=f"demo-{hashlib.sha1(content.encode()).hexdigest()[:16]}",
        )
