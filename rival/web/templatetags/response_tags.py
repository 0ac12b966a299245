import re

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()

MISSING = "—"
_EXTERNAL = re.compile(
    r"<(?:script|link|img|iframe|source|video|audio)\b[^>]*\b(?:src|href)\s*=\s*[\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def _given(value) -> bool:
    return value is not None and value != ""


def _ms(value) -> str:
    return f"{intcomma(value)} ms" if _given(value) else MISSING


@register.simple_tag
def reproducibility(response) -> list[tuple[str, str]]:
    """The reproducibility card as (label, value) rows; what was not recorded shows as —."""
    sent = response.settings if isinstance(response.settings, dict) else {}
    model = response.model
    tokens_in = response.tokens_in if _given(response.tokens_in) else MISSING
    tokens_out = response.tokens_out if _given(response.tokens_out) else MISSING
    rows = [
        ("Gateway model id", sent.get("model_id") or model.gateway_model_id or MISSING),
        ("Gateway", sent.get("gateway") or MISSING),
        ("Temperature", sent["temperature"] if _given(sent.get("temperature")) else MISSING),
        ("Top p", sent["top_p"] if _given(sent.get("top_p")) else MISSING),
        ("Max tokens", sent["max_tokens"] if _given(sent.get("max_tokens")) else MISSING),
        (
            "System prompt",
            sent.get("system_prompt") or ("None (user prompt only)" if sent else MISSING),
        ),
        ("Tokens in / out", f"{tokens_in} / {tokens_out}"),
        ("Latency", _ms(response.latency_ms)),
        ("Time to first token", _ms(response.ttft_ms)),
        (
            "Cost",
            f"${response.cost_usd.normalize():f}" if response.cost_usd is not None else MISSING,
        ),
        ("Finish reason", response.finish_reason or MISSING),
        ("Source", response.get_source_display()),
    ]
    if response.image_width:
        rows.insert(-2, ("Image size", f"{response.image_width} × {response.image_height} px"))
    if response.audio_duration_ms is not None:
        rows.insert(-2, ("Audio duration", f"{response.audio_duration_ms / 1000:.1f} s"))
    return [(label, str(value)) for label, value in rows]


@register.filter
def loads_external_resources(content: str) -> bool:
    """True when framed HTML/SVG asks for scripts, styles or media from the network, which the
    sandbox's policy blocks, so the page may look incomplete."""
    return bool(_EXTERNAL.search(content or ""))
