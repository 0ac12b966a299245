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

import hashlib
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULT_KINDS = ("429", "500", "401", "timeout", "malformed", "cut")
MARKER = re.compile(r"\[\[fault:(?P<kind>[a-z0-9]+)(?::(?P<times>\d+))?\]\]")

DEFAULT_MODELS = [
    {
        "id": "acme/rocket-1",
        "name": "Acme: Rocket 1",
        "created": 1735689600,
        "context_length": 128000,
        "architecture": {
            "modality": "text+image->text",
            "input_modalities": ["text", "image"],
            "output_modalities": ["text"],
        },
        "pricing": {"prompt": "0.000001", "completion": "0.000004"},
    },
    {
        "id": "zenith/zen-small",
        "name": "Zenith: Zen Small",
        "created": 1704067200,
        "context_length": 32768,
        "architecture": {
            "modality": "text->text",
            "input_modalities": ["text"],
            "output_modalities": ["text"],
        },
        "pricing": {"prompt": "0.0000002", "completion": "0.0000006"},
    },
]


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


@dataclass
class LoggedRequest:
    t: float
    path: str
    model: str = ""
    prompt_sha: str = ""
    attempt: int = 0
    stream: bool = False
    fault: str = ""
    status: int = 200


class _Server(ThreadingHTTPServer):
    # The listen() backlog, which the constructor applies: a class attribute, since setting it
    # on the instance afterwards does nothing. At the stdlib's 5, a burst of 50 clients
    # connecting at once overflowed it and some got "connection reset by peer".
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # Clients that gave up (timeouts, cut streams) are part of the game, not errors.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeProvider:
    """A threaded HTTP server; `start()` it, point a gateway at `.base_url`, `stop()` it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        faults: str = "",
        seed: int = 0,
        retry_after: float = 2,
        hang: float = 30,
        models: list[dict] | None = None,
    ):
        self.latency = latency
        self.rates = parse_faults(faults)
        self.seed = seed
        self.retry_after = retry_after
        self.hang = hang
        self.models = list(DEFAULT_MODELS if models is None else models)
        self.log: list[LoggedRequest] = []
        self._attempts: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        # Stopping must not wait for a request deliberately hanging (the timeout fault).
        self._server.block_on_close = False
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> "FakeProvider":
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "FakeProvider":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def requests(self, path: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [r for r in self.log if path is None or r.path == path]

    def reset(self) -> None:
        with self._lock:
            self.log.clear()
            self._attempts.clear()

    def record(self, path: str, model: str, prompt: str, stream: bool) -> LoggedRequest:
        """Log one request and decide its fault."""
        sha = hashlib.sha256(prompt.encode()).hexdigest()[:16]
        with self._lock:
            key = (path, model, prompt)
            attempt = self._attempts.get(key, 0) + 1
            self._attempts[key] = attempt
            entry = LoggedRequest(
                t=time.time(),
                path=path,
                model=model,
                prompt_sha=sha,
                attempt=attempt,
                stream=stream,
            )
            entry.fault = self._fault_for(model, prompt, attempt)
            self.log.append(entry)
        return entry

    def _fault_for(self, model: str, prompt: str, attempt: int) -> str:
        marker = MARKER.search(prompt)
        if marker:
            times = marker["times"]
            if times is None or attempt <= int(times):
                return marker["kind"]
            return ""
        if not self.rates:
            return ""
        digest = hashlib.sha256(f"{self.seed}\0{model}\0{prompt}\0{attempt}".encode()).digest()
        draw = int.from_bytes(digest[:8], "big") / 2**64
        for kind, rate in self.rates.items():
            if draw < rate:
                return kind
            draw -= rate
        return ""

    def stats(self) -> dict:
        with self._lock:
            return {"requests": [asdict(r) for r in self.log]}


def _answer_for(model: str, prompt: str) -> list[str]:
    """A deterministic answer, as the list of pieces a stream sends."""
    digest = hashlib.sha256(f"{model}\0{prompt}".encode()).hexdigest()[:8]
    return [f"Answer {digest} ", f"from {model}: ", "here are ", "the details ", "you asked for."]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


def _handler_for(fake: FakeProvider):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeProvider/1.0"
        # Stream chunks go out as small writes; with Nagle on, each one after the first waits
        # for the client's delayed ACK (up to 40 ms), which no real provider adds.
        disable_nagle_algorithm = True

        def log_message(self, format, *args):  # noqa: A002 — the stdlib's signature
            pass

        # --- plumbing ------------------------------------------------------------------------
        def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _raw(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _start_sse(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

        def _chunk(self, data: str) -> None:
            raw = data.encode()
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()

        def _end_chunks(self) -> None:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _cut(self) -> None:
            """Drop the connection without finishing the chunked body."""
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)

        def _body(self) -> dict:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                return json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return {}

        def _error(self, status: int, message: str, anthropic: bool, headers=None) -> None:
            if anthropic:
                kinds = {401: "authentication_error", 429: "rate_limit_error"}
                payload = {
                    "type": "error",
                    "error": {"type": kinds.get(status, "api_error"), "message": message},
                }
            else:
                payload = {"error": {"message": message, "code": status}}
            self._json(status, payload, headers)

        def _fail_early(self, entry: LoggedRequest, anthropic: bool) -> bool:
            """Answer with a status-code fault; True when the request is done."""
            if entry.fault == "timeout":
                time.sleep(fake.hang)
            statuses = {
                "429": (429, "Rate limit exceeded, slow down."),
                "500": (500, "Internal server error, try again."),
                "401": (401, "Invalid API key provided."),
            }
            if entry.fault in statuses:
                entry.status, message = statuses[entry.fault]
                headers = {"Retry-After": f"{fake.retry_after:g}"} if entry.fault == "429" else {}
                self._error(entry.status, message, anthropic, headers)
                return True
            return False

        # --- routes --------------------------------------------------------------------------
        def do_GET(self):
            if self.path.rstrip("/") in ("/v1/models", "/api/v1/models"):
                self._json(200, {"data": fake.models})
            elif self.path.startswith("/_stats"):
                self._json(200, fake.stats())
            else:
                self._json(404, {"error": {"message": f"No route {self.path}"}})

        def do_POST(self):
            path = self.path.rstrip("/")
            body = self._body()
            if path in ("/v1/chat/completions", "/api/v1/chat/completions"):
                self._openai(body)
            elif path == "/v1/messages":
                self._anthropic(body)
            elif path == "/_reset":
                fake.reset()
                self._json(200, {"ok": True})
            else:
                self._json(404, {"error": {"message": f"No route {self.path}"}})

        def _authorised(self, anthropic: bool) -> bool:
            if anthropic and self.headers.get("x-api-key"):
                return True
            return self.headers.get("Authorization", "").startswith("Bearer ")

        def _openai(self, body: dict) -> None:
            model = str(body.get("model", ""))
            messages = body.get("messages") or []
            prompt = str(messages[-1].get("content", "")) if messages else ""
            stream = bool(body.get("stream"))
            entry = fake.record("/v1/chat/completions", model, prompt, stream)
            if not self._authorised(anthropic=False):
                entry.status = 401
                self._error(401, "No auth credentials found", anthropic=False)
                return
            if self._fail_early(entry, anthropic=False):
                return
            pieces = _answer_for(model, prompt)
            usage = {
                "prompt_tokens": _tokens(prompt),
                "completion_tokens": _tokens("".join(pieces)),
            }
            usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
            usage["cost"] = round(usage["total_tokens"] * 0.000001, 8)
            ident = f"gen-{entry.prompt_sha}-{entry.attempt}"
            if not stream:
                time.sleep(fake.latency)
                if entry.fault == "malformed":
                    self._raw(200, b'{"id": "' + ident.encode() + b'", "choices": [{"mess')
                    return
                payload = {
                    "id": ident,
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": "".join(pieces)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                }
                if entry.fault == "cut":
                    raw = json.dumps(payload).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw[: len(raw) // 2])
                    self._cut()
                    return
                self._json(200, payload)
                return
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._openai_stream(entry, ident, model, pieces, usage, include_usage)

        def _openai_stream(self, entry, ident, model, pieces, usage, include_usage) -> None:
            def chunk(delta: dict, finish: str | None = None, **extra) -> str:
                payload = {
                    "id": ident,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
                    **extra,
                }
                return f"data: {json.dumps(payload)}\n\n"

            time.sleep(fake.latency / 2)
            self._start_sse()
            self._chunk(chunk({"role": "assistant", "content": ""}))
            step = fake.latency / 2 / len(pieces)
            for i, piece in enumerate(pieces):
                if step:
                    time.sleep(step)
                if entry.fault == "cut" and i == len(pieces) // 2:
                    self._cut()
                    return
                if entry.fault == "malformed" and i == len(pieces) // 2:
                    self._chunk('data: {"id": "' + ident + '", "choices": [{"delta": {"cont\n\n')
                    continue
                self._chunk(chunk({"content": piece}))
            self._chunk(chunk({}, "stop"))
            if include_usage:
                final = chunk({}, None, usage=usage)
                final_payload = json.loads(final[len("data: ") :])
                final_payload["choices"] = []
                self._chunk(f"data: {json.dumps(final_payload)}\n\n")
            self._chunk("data: [DONE]\n\n")
            self._end_chunks()

        def _anthropic(self, body: dict) -> None:
            model = str(body.get("model", ""))
            messages = body.get("messages") or []
            content = messages[-1].get("content", "") if messages else ""
            if isinstance(content, list):
                content = "".join(block.get("text", "") for block in content)
            prompt = str(content)
            stream = bool(body.get("stream"))
            entry = fake.record("/v1/messages", model, prompt, stream)
            if not self._authorised(anthropic=True):
                entry.status = 401
                self._error(401, "x-api-key header is required", anthropic=True)
                return
            if self._fail_early(entry, anthropic=True):
                return
            pieces = _answer_for(model, prompt)
            ident = f"msg_{entry.prompt_sha}{entry.attempt}"
            usage = {"input_tokens": _tokens(prompt), "output_tokens": _tokens("".join(pieces))}
            if not stream:
                time.sleep(fake.latency)
                if entry.fault in ("malformed", "cut"):
                    self._raw(200, b'{"id": "' + ident.encode() + b'", "content": [{"ty')
                    return
                self._json(
                    200,
                    {
                        "id": ident,
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [{"type": "text", "text": "".join(pieces)}],
                        "stop_reason": "end_turn",
                        "stop_sequence": None,
                        "usage": usage,
                    },
                )
                return
            self._anthropic_stream(entry, ident, model, pieces, usage)

        def _anthropic_stream(self, entry, ident, model, pieces, usage) -> None:
            def event(name: str, data: dict) -> str:
                return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

            time.sleep(fake.latency / 2)
            self._start_sse()
            start_message = {
                "id": ident,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1},
            }
            self._chunk(event("message_start", {"message": start_message}))
            self._chunk(
                event(
                    "content_block_start",
                    {"index": 0, "content_block": {"type": "text", "text": ""}},
                )
            )
            step = fake.latency / 2 / len(pieces)
            for i, piece in enumerate(pieces):
                if step:
                    time.sleep(step)
                if entry.fault == "cut" and i == len(pieces) // 2:
                    self._cut()
                    return
                if entry.fault == "malformed" and i == len(pieces) // 2:
                    self._chunk('event: content_block_delta\ndata: {"type": "content_blo\n\n')
                    continue
                delta = {"index": 0, "delta": {"type": "text_delta", "text": piece}}
                self._chunk(event("content_block_delta", delta))
            self._chunk(event("content_block_stop", {"index": 0}))
            self._chunk(
                event(
                    "message_delta",
                    {
                        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                        "usage": {"output_tokens": usage["output_tokens"]},
                    },
                )
            )
            self._chunk(event("message_stop", {}))
            self._end_chunks()

    return Handler
