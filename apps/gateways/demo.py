"""The offline demo gateway: deterministic, plausible answers with no network.

The same (model, prompt) always gives the same answer; different models give different
answers, and each answer has the shape the challenge asks for: Markdown for text, a fenced
code block in the language the prompt names, a parseable SVG, a complete HTML document.
Token counts, latency and cost look like a real provider's: cost is the catalog's list
price for the model times the tokens, and unknown for models the catalog doesn't price.
"""

import hashlib
import random
import re
from decimal import Decimal
from html import escape

from apps.catalog.models import AIModel, Gateway
from apps.gateways.base import Completion, CompletionRequest

PALETTES = [
    ("#0f172a", "#e2e8f0", "#38bdf8", "#f472b6"),
    ("#1e1b4b", "#ede9fe", "#a78bfa", "#facc15"),
    ("#052e16", "#dcfce7", "#4ade80", "#f97316"),
    ("#3f0d12", "#ffe4e6", "#fb7185", "#fde68a"),
    ("#111827", "#f3f4f6", "#60a5fa", "#34d399"),
    ("#fdf6e3", "#073642", "#268bd2", "#d33682"),
    ("#ffffff", "#1f2937", "#2563eb", "#f59e0b"),
]

_STOPWORDS = (
    "about above after again against also answer any are because been before being below "
    "between both brief build but can contained could create does each every explain "
    "few file from further generate give given have here how include including into "
    "its just make markup more most must only other output over page reasoning same "
    "self should show single some step such than that their them then there these "
    "they think this those through under until use using very was were what when "
    "where which while who why will with without would write your yours svg html "
    "three implement draw many self-contained design called works makes reads"
)
STOPWORDS = frozenset(_STOPWORDS.split())

# Each model gets a voice: how it opens, how it structures, how it closes.
VOICES = [
    {
        "opener": "Great question — let's break it down.",
        "headings": ("Overview", "Key points", "Putting it together"),
        "closer": "If you want, I can go deeper into any of these parts.",
    },
    {
        "opener": "Short answer first, then the reasoning.",
        "headings": ("TL;DR", "Why", "Caveats"),
        "closer": "That's the gist; the caveats above are where the real decisions live.",
    },
    {
        "opener": "Let me think through this step by step.",
        "headings": ("Step 1 — Understand the question", "Step 2 — Work it out", "Answer"),
        "closer": "I double-checked each step, and the reasoning holds.",
    },
    {
        "opener": "Here is a structured take.",
        "headings": ("Context", "Analysis", "Recommendation"),
        "closer": "Happy to adapt this to a different audience or length.",
    },
    {
        "opener": "Sure! Here's my answer.",
        "headings": ("The core idea", "Details worth knowing", "In summary"),
        "closer": "Let me know if anything is unclear.",
    },
]

POINTS = [
    "start from what is actually asked about {k}, not from what is easy to say",
    "state the assumptions about {k} before drawing any conclusion",
    "check the edge cases of {k}, not only the happy path",
    "prefer the simplest explanation of {k} that fits the facts",
    "separate what is known about {k} from what is guessed",
    "make the trade-offs around {k} explicit so the reader can disagree",
    "give one concrete example of {k}, because abstractions alone rarely convince",
    "say what evidence would change the view on {k}",
]

PARAGRAPHS = [
    "The heart of the matter is **{k1}**. Everything else follows from how {k1} interacts "
    "with {k2}: get that relationship right and the rest is bookkeeping.",
    "A useful way to see it is to imagine {k2} without {k1}. What breaks first tells you "
    "which parts of the problem are essential and which are decoration.",
    "In practice, people underestimate {k3}. It rarely dominates at first, but over time it "
    "shapes the outcome more than {k1} does.",
    "There is a tempting shortcut here — treating {k2} as a fixed quantity — but it hides "
    "the most interesting part of the question.",
    "Numbers help: even a rough estimate for {k1} turns a vague debate into a checkable "
    "claim, and a checkable claim can be improved.",
]

LANGUAGES = [
    ("rust", ("rust", "cargo")),
    ("typescript", ("typescript", " ts ")),
    ("javascript", ("javascript", "node.js", " js ")),
    ("go", (" go ", "golang", " go.")),
    ("sql", ("sql", "postgres", "query")),
    ("bash", ("bash", "shell script", "shell")),
    ("java", (" java ",)),
    ("cpp", ("c++",)),
    ("python", ("python",)),
]


def _rng(request: CompletionRequest) -> random.Random:
    digest = hashlib.sha256(f"{request.model_id}\0{request.prompt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _model_number(request: CompletionRequest) -> int:
    """A stable number per model, so a model keeps its voice across prompts."""
    return int.from_bytes(hashlib.sha256(request.model_id.encode()).digest()[:4], "big")


def keywords(prompt: str, limit: int = 6) -> list[str]:
    """The prompt's most telling words: the most repeated first, then in order of appearance,
    singular and plural counted as one, so answers stay on topic."""
    counts: dict[str, int] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z'-]{3,}", prompt):
        lower = word.lower().strip("'-")
        if lower in STOPWORDS or len(lower) < 4:
            continue
        stem = lower[:-1] if lower.endswith("s") and lower[:-1] in counts else lower
        counts[stem] = counts.get(stem, 0) + 1
    # Nouns make better topics than gerunds and adverbs ("advising", "fully").
    ranked = sorted(counts, key=lambda w: (-counts[w], w.endswith(("ing", "ly"))))[:limit]
    return ranked or ["the question"]


def _text(request: CompletionRequest, rng: random.Random) -> str:
    voice = VOICES[_model_number(request) % len(VOICES)]
    keys = keywords(request.prompt)
    k1, k2, k3 = (keys * 3)[:3]
    first, second, third = voice["headings"]
    bullets = "\n".join(
        f"- {p.format(k=rng.choice(keys)).capitalize()}." for p in rng.sample(POINTS, k=4)
    )
    paragraphs = rng.sample(PARAGRAPHS, k=3)
    body = [
        voice["opener"],
        f"## {first}",
        paragraphs[0].format(k1=k1, k2=k2, k3=k3),
        f"## {second}",
        bullets,
        paragraphs[1].format(k1=k1, k2=k2, k3=k3),
    ]
    if rng.random() < 0.5:
        body.append(
            f"| Aspect | Why it matters |\n|---|---|\n| {k1.capitalize()} | sets the frame |\n"
            f"| {k2.capitalize()} | decides the details |\n| {k3.capitalize()} | "
            "shows up over time |"
        )
    body += [
        f"## {third}",
        paragraphs[2].format(k1=k1, k2=k2, k3=k3),
        f"> {voice['closer']}",
    ]
    return "\n\n".join(body) + "\n"


def language_of(prompt: str) -> str:
    text = f" {prompt.lower()} "
    for language, hints in LANGUAGES:
        if any(hint in text for hint in hints):
            return language
    return "python"


def _identifier(rng: random.Random, keys: list[str]) -> str:
    word = re.sub(r"[^a-z]", "", rng.choice(keys)) or "task"
    return f"{rng.choice(['process', 'compute', 'build', 'handle', 'run'])}_{word}"


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


CODE_TEMPLATES = {
    "python": (
        "from collections.abc import Iterable\n\n\n"
        "def {name}(items: Iterable[str], limit: int = {n}) -> list[tuple[str, int]]:\n"
        '    """Count the items and return the {n} most common, ties broken by name."""\n'
        "    counts: dict[str, int] = {{}}\n"
        "    for item in items:\n"
        "        counts[item] = counts.get(item, 0) + 1\n"
        "    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]\n\n\n"
        'if __name__ == "__main__":\n'
        '    print({name}(["{k}", "demo", "{k}"]))\n'
    ),
    "rust": (
        "use std::collections::HashMap;\n\n"
        "fn {name}(input: &str, limit: usize) -> Vec<(String, usize)> {{\n"
        "    let mut counts: HashMap<String, usize> = HashMap::new();\n"
        "    for word in input.split_whitespace() {{\n"
        "        *counts.entry(word.to_lowercase()).or_insert(0) += 1;\n"
        "    }}\n"
        "    let mut pairs: Vec<_> = counts.into_iter().collect();\n"
        "    pairs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));\n"
        "    pairs.truncate(limit);\n"
        "    pairs\n"
        "}}\n\n"
        "fn main() {{\n"
        '    for (word, count) in {name}("{k} demo {k}", {n}) {{\n'
        '        println!("{{word}}: {{count}}");\n'
        "    }}\n"
        "}}\n"
    ),
    "typescript": (
        "export function {camel}<T extends (...args: any[]) => void>(fn: T, waitMs = {n}00) {{\n"
        "  let timer: ReturnType<typeof setTimeout> | undefined;\n"
        "  let lastArgs: Parameters<T> | undefined;\n"
        "  const wrapped = (...args: Parameters<T>) => {{\n"
        "    lastArgs = args;\n"
        "    clearTimeout(timer);\n"
        "    timer = setTimeout(() => wrapped.flush(), waitMs);\n"
        "  }};\n"
        "  wrapped.cancel = () => {{ clearTimeout(timer); lastArgs = undefined; }};\n"
        "  wrapped.flush = () => {{\n"
        "    if (lastArgs) {{ const args = lastArgs; wrapped.cancel(); fn(...args); }}\n"
        "  }};\n"
        "  return wrapped;\n"
        "}}\n\n"
        'const log = {camel}((msg: string) => console.log(msg));\nlog("{k}");\n'
    ),
    "javascript": (
        "function {camel}(items, limit = {n}) {{\n"
        "  const counts = new Map();\n"
        "  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);\n"
        "  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit);\n"
        "}}\n\n"
        'console.log({camel}(["{k}", "demo", "{k}"]));\n'
    ),
    "go": (
        "package main\n\n"
        'import (\n\t"fmt"\n\t"sync"\n\t"time"\n)\n\n'
        "type Limiter struct {{\n\tmu     sync.Mutex\n\ttokens float64\n\tmax    float64\n"
        "\trate   float64\n\tlast   time.Time\n}}\n\n"
        "func New(rate float64, burst int) *Limiter {{\n"
        "\treturn &Limiter{{tokens: float64(burst), max: float64(burst), rate: rate, "
        "last: time.Now()}}\n}}\n\n"
        "func (l *Limiter) Allow() bool {{\n\tl.mu.Lock()\n\tdefer l.mu.Unlock()\n"
        "\tnow := time.Now()\n\tl.tokens = min(l.max, l.tokens+now.Sub(l.last).Seconds()*l.rate)\n"
        "\tl.last = now\n\tif l.tokens < 1 {{\n\t\treturn false\n\t}}\n\tl.tokens--\n"
        "\treturn true\n}}\n\n"
        "func main() {{\n\tl := New({n}, {n})\n"
        '\tfmt.Println("{k}:", l.Allow())\n}}\n'
    ),
    "sql": (
        "WITH revenue AS (\n"
        "    SELECT c.id, c.name, c.country, SUM(o.total) AS revenue\n"
        "    FROM customers AS c\n"
        "    JOIN orders AS o ON o.customer_id = c.id\n"
        "    WHERE o.created_at >= DATE '2024-01-01' AND o.created_at < DATE '2025-01-01'\n"
        "    GROUP BY c.id, c.name, c.country\n"
        "), ranked AS (\n"
        "    SELECT *, RANK() OVER (PARTITION BY country ORDER BY revenue DESC) AS rank\n"
        "    FROM revenue\n"
        ")\n"
        "SELECT country, rank, name, revenue\n"
        "FROM ranked\nWHERE rank <= {n}\nORDER BY country, rank;\n"
    ),
    "bash": (
        "#!/usr/bin/env bash\nset -euo pipefail\n\n"
        'src="${{1:?usage: $0 DIRECTORY}}"\n'
        'dest="${{HOME}}/backups"\nkeep={n}\n'
        'mkdir -p -- "$dest"\n'
        'archive="$dest/$(basename -- "$src")-$(date +%Y%m%d-%H%M%S).tar.gz"\n'
        'tar -czf "$archive" -C "$(dirname -- "$src")" -- "$(basename -- "$src")"\n'
        'echo "{k}: wrote $archive"\n\n'
        "# Keep only the newest archives.\n"
        'ls -1t -- "$dest"/*.tar.gz | tail -n +$((keep + 1)) | while IFS= read -r old; do\n'
        '  rm -f -- "$old"\ndone\n'
    ),
    "java": (
        "import java.util.*;\n\npublic class Main {{\n"
        "    static List<String> {camel}(List<String> items) {{\n"
        "        return items.stream().distinct().sorted().limit({n}).toList();\n    }}\n\n"
        "    public static void main(String[] args) {{\n"
        '        System.out.println({camel}(List.of("{k}", "demo")));\n    }}\n}}\n'
    ),
    "cpp": (
        "#include <iostream>\n#include <map>\n#include <string>\n\n"
        "int main() {{\n    std::map<std::string, int> counts;\n"
        '    for (std::string w : {{"{k}", "demo", "{k}"}}) counts[w]++;\n'
        "    for (auto& [w, c] : counts) std::cout << w << \": \" << c << '\\n';\n"
        "    return 0;\n}}\n"
    ),
}


def _code(request: CompletionRequest, rng: random.Random) -> str:
    language = language_of(request.prompt)
    keys = keywords(request.prompt)
    name = _identifier(rng, keys)
    code = CODE_TEMPLATES[language].format(
        name=name, camel=_camel(name), k=keys[0], n=rng.choice([3, 5, 7, 10])
    )
    voice = VOICES[_model_number(request) % len(VOICES)]
    notes = rng.sample(
        [
            f"Every operation on **{keys[0]}** is linear in the input at worst.",
            "Edge cases — empty input, duplicates, invalid arguments — are handled explicitly.",
            "No third-party dependencies: it runs with the standard toolchain.",
            "Names describe intent, so the code needs few comments.",
            "The example at the bottom doubles as a smoke test.",
        ],
        k=3,
    )
    return (
        f"{voice['opener']}\n\n```{language}\n{code}```\n\n### How it works\n\n"
        + "\n".join(f"- {note}" for note in notes)
        + f"\n\n{voice['closer']}\n"
    )


def _svg_shapes(rng: random.Random, palette: tuple[str, ...]) -> list[str]:
    bg, fg, accent, extra = palette
    style = rng.randrange(4)
    shapes: list[str] = []
    if style == 0:  # landscape: sun, hills, ground
        shapes.append(f'<circle cx="{rng.randint(60, 340)}" cy="80" r="40" fill="{extra}"/>')
        for i in range(3):
            y = 190 + i * 25
            c = rng.randint(40, 360)
            shapes.append(
                f'<path d="M0 {y} Q {c} {y - rng.randint(40, 90)} 400 {y} L400 300 L0 300 Z" '
                f'fill="{[accent, fg, extra][i]}" opacity="{0.5 + i * 0.2:.1f}"/>'
            )
    elif style == 1:  # concentric rings
        cx, cy = rng.randint(150, 250), rng.randint(120, 180)
        for r in range(rng.randint(110, 140), 10, -rng.randint(14, 22)):
            colour = rng.choice([fg, accent, extra])
            shapes.append(
                f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{colour}" '
                f'stroke-width="{rng.randint(3, 8)}"/>'
            )
    elif style == 2:  # geometric composition
        for _ in range(rng.randint(5, 9)):
            x, y = rng.randint(20, 330), rng.randint(20, 230)
            colour = rng.choice([fg, accent, extra])
            kind = rng.randrange(3)
            if kind == 0:
                shapes.append(
                    f'<rect x="{x}" y="{y}" width="{rng.randint(20, 80)}" '
                    f'height="{rng.randint(20, 80)}" rx="{rng.randint(0, 12)}" fill="{colour}"/>'
                )
            elif kind == 1:
                shapes.append(
                    f'<polygon points="{x},{y + 50} {x + 30},{y} {x + 60},{y + 50}" '
                    f'fill="{colour}"/>'
                )
            else:
                shapes.append(
                    f'<circle cx="{x + 25}" cy="{y + 25}" r="{rng.randint(10, 40)}" '
                    f'fill="{colour}" opacity="0.85"/>'
                )
    else:  # bars and a line
        width = 400 // 8
        points = []
        for i in range(6):
            h = rng.randint(40, 200)
            shapes.append(
                f'<rect x="{30 + i * (width + 8)}" y="{260 - h}" width="{width}" '
                f'height="{h}" fill="{rng.choice([accent, extra])}"/>'
            )
            points.append(f"{30 + i * (width + 8) + width // 2},{260 - h - 10}")
        shapes.append(f'<line x1="20" y1="260" x2="390" y2="260" stroke="{fg}" stroke-width="2"/>')
        shapes.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{fg}" stroke-width="3"/>'
        )
    return shapes


def _svg(request: CompletionRequest, rng: random.Random) -> str:
    palette = rng.choice(PALETTES)
    label = escape(" ".join(keywords(request.prompt, limit=2)).title())
    shapes = "\n  ".join(_svg_shapes(rng, palette))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" '
        f'height="300" role="img" aria-label="{label}">\n'
        f"  <title>{label}</title>\n"
        f'  <rect width="400" height="300" fill="{palette[0]}"/>\n  {shapes}\n'
        f'  <text x="200" y="290" text-anchor="middle" font-family="sans-serif" '
        f'font-size="14" fill="{palette[1]}">{label}</text>\n</svg>\n'
    )


HTML_SCRIPTS = [
    # A counter the page's button drives.
    "let n = 0;\nconst out = document.getElementById('out');\n"
    "document.getElementById('action').addEventListener('click', () => {\n"
    "  out.textContent = `Clicked ${++n} time${n === 1 ? '' : 's'}`;\n});",
    # A countdown timer.
    "let left = 25 * 60, timer = null;\nconst out = document.getElementById('out');\n"
    "const show = () => out.textContent = "
    "`${String(Math.floor(left / 60)).padStart(2, '0')}:${String(left % 60).padStart(2, '0')}`;\n"
    "document.getElementById('action').addEventListener('click', () => {\n"
    "  if (timer) { clearInterval(timer); timer = null; return; }\n"
    "  timer = setInterval(() => { left = Math.max(0, left - 1); show(); }, 1000);\n});\nshow();",
    # A theme toggle.
    "const out = document.getElementById('out');\n"
    "document.getElementById('action').addEventListener('click', () => {\n"
    "  document.body.classList.toggle('alt');\n"
    "  out.textContent = document.body.classList.contains('alt') ? 'Alternate theme' : "
    "'Default theme';\n});",
]


def _html(request: CompletionRequest, rng: random.Random) -> str:
    bg, fg, accent, extra = rng.choice(PALETTES)
    keys = keywords(request.prompt)
    title = escape(" ".join(keys[:3]).title())
    cards = "\n".join(
        f'      <article class="card"><h2>{escape(k.title())}</h2>'
        f"<p>{escape(rng.choice(POINTS).format(k=k).capitalize())}.</p></article>"
        for k in keys[:3]
    )
    radius = rng.choice([4, 8, 12, 20])
    font = rng.choice(
        ["system-ui, sans-serif", "Georgia, serif", "'Inter', 'Segoe UI', sans-serif"]
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>
    :root {{ --bg: {bg}; --fg: {fg}; --accent: {accent}; --extra: {extra}; }}
    * {{ box-sizing: border-box; }}
    body {{ margin: 0; font-family: {font}; background: var(--bg); color: var(--fg); }}
    body.alt {{ background: var(--fg); color: var(--bg); }}
    header, main, footer {{ max-width: 60rem; margin: 0 auto; padding: 1.5rem; }}
    h1 {{ font-size: clamp(1.8rem, 5vw, 3rem); margin: 0 0 .5rem; }}
    .grid {{ display: grid; gap: 1rem;
      grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }}
    .card {{ border: 2px solid var(--accent); border-radius: {radius}px; padding: 1rem; }}
    button {{ background: var(--accent); color: var(--bg); border: 0; border-radius: {radius}px;
      padding: .75rem 1.25rem; font-size: 1rem; cursor: pointer; }}
    button:focus-visible {{ outline: 3px solid var(--extra); outline-offset: 2px; }}
    #out {{ font-size: 2rem; font-variant-numeric: tabular-nums; margin: 1rem 0; }}
  </style>
</head>
<body>
  <header>
    <h1>{title}</h1>
    <p>A self-contained page built for this challenge.</p>
  </header>
  <main>
    <p id="out" aria-live="polite">Ready</p>
    <button id="action" type="button">Start</button>
    <section class="grid" aria-label="Highlights">
{cards}
    </section>
  </main>
  <footer><small>Made with plain HTML, CSS and JavaScript.</small></footer>
  <script>
{rng.choice(HTML_SCRIPTS)}
  </script>
</body>
</html>
"""


GENERATORS = {"text": _text, "code": _code, "svg": _svg, "html": _html}


def demo_prices() -> dict[str, tuple[Decimal, Decimal]]:
    """What the demo "provider" charges: the catalog's list price of each priced model on a
    demo gateway (loaddemo keeps them equal to the demo catalog), by gateway model id."""
    rows = AIModel.objects.filter(
        gateway__kind=Gateway.Kind.DEMO,
        price_input_per_mtok__isnull=False,
        price_output_per_mtok__isnull=False,
    ).values_list("gateway_model_id", "price_input_per_mtok", "price_output_per_mtok")
    return {model_id: (price_in, price_out) for model_id, price_in, price_out in rows if model_id}


class DemoClient:
    """Prices are read from the catalog once per client, on its first answer."""

    def __init__(self):
        self._prices: dict[str, tuple[Decimal, Decimal]] | None = None

    def cost_of(self, model_id: str, tokens_in: int, tokens_out: int) -> Decimal | None:
        if self._prices is None:
            self._prices = demo_prices()
        if model_id not in self._prices:
            return None
        price_in, price_out = self._prices[model_id]
        cost = (price_in * tokens_in + price_out * tokens_out) / 1_000_000
        return cost.quantize(Decimal("0.000001"))

    def complete(self, request: CompletionRequest) -> Completion:
        rng = _rng(request)
        content = GENERATORS.get(request.output_type, _text)(request, rng)
        tokens_in = max(1, round(len(request.prompt) / 4)) + 7  # chat template overhead
        tokens_out = max(1, round(len(content) / 3.6))
        # Each model has its own speed; each answer a little jitter.
        speed = 35 + _model_number(request) % 120  # tokens per second
        ttft_ms = rng.randint(180, 1400)
        latency_ms = ttft_ms + round(tokens_out / speed * 1000 * rng.uniform(0.9, 1.15))
        return Completion(
            content=content,
            finish_reason="stop",
            latency_ms=latency_ms,
            ttft_ms=ttft_ms,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost_usd=self.cost_of(request.model_id, tokens_in, tokens_out),
            request_id=f"demo-{hashlib.sha1(content.encode()).hexdigest()[:16]}",
        )
