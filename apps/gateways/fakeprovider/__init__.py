"""A fake provider speaking the real wire protocols, for tests, benchmarks and demos.

It serves OpenAI-compatible `/v1/chat/completions` (plain and SSE streaming, usage in the final
chunk), an OpenRouter-style `/v1/models` listing and Anthropic `/v1/messages` (plain and
streaming events) over real HTTP, so the official SDKs run against it unchanged.

Faults are chosen per request, deterministically:

- by a marker in the prompt: `[[fault:KIND]]` on every attempt, `[[fault:KIND:N]]` on the first
  N attempts of that prompt only;
- by rates in a spec such as `429=0.05,500=0.05,malformed=0.02,cut=0.02,timeout=0.01`, decided by
  hashing (seed, model, prompt, attempt number) — the same run of prompts sees the same faults
  whatever the order requests arrive in.

KIND is one of 429 (with `Retry-After`), 500, 401, timeout (answers only after `hang` seconds),
malformed (invalid JSON) and cut (the connection drops half-way through the answer).

Every request is logged with its arrival time; read `FakeProvider.log` in-process or
`GET /_stats` over HTTP.
"""

from apps.gateways.fakeprovider.faults import FAULT_KINDS, parse_faults
from apps.gateways.fakeprovider.server import DEFAULT_MODELS, FakeProvider, LoggedRequest

__all__ = ["DEFAULT_MODELS", "FAULT_KINDS", "FakeProvider", "LoggedRequest", "parse_faults"]
