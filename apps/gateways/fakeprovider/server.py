"""The fake provider: its request log, its settings and the threaded HTTP server."""

import hashlib
import sys
import threading
import time
from dataclasses import asdict, dataclass
from http.server import ThreadingHTTPServer

from apps.gateways.fakeprovider.faults import fault_for, parse_faults
from apps.gateways.fakeprovider.handler import Handler

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
    fake: "FakeProvider"

    # The listen() backlog, which the constructor applies: a class attribute, since setting it
    # on the instance afterwards does nothing. At the stdlib's 5, a burst of 50 clients
    # connecting at once overflowed it and some got "connection reset by peer".
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # Clients that gave up (timeouts, cut streams) are part of the game, not errors.
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
        chat_images_only: bool = False,
        names_model: bool = True,
    ):
        self.latency = latency
        self.rates = parse_faults(faults)
        self.seed = seed
        self.retry_after = retry_after
        self.hang = hang
        self.models = list(DEFAULT_MODELS if models is None else models)
        # Like OpenRouter: no Images API, images only from chat completions.
        self.chat_images_only = chat_images_only
        # Off: answers never name the model asked (the arena's live battles void one that does).
        self.names_model = names_model
        self.log: list[LoggedRequest] = []
        self._attempts: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self._server = _Server((host, port), Handler)
        self._server.fake = self
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
            entry.fault = fault_for(self.rates, self.seed, model, prompt, attempt)
            self.log.append(entry)
        return entry

    def stats(self) -> dict:
        with self._lock:
            return {"requests": [asdict(r) for r in self.log]}
