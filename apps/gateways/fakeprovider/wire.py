"""HTTP plumbing shared by the fake provider's routes: JSON, SSE chunks, cut connections."""

import hashlib
import json
import time
from http.server import BaseHTTPRequestHandler


def answer_for(model: str, prompt: str, names_model: bool = True) -> list[str]:
    """A deterministic answer, as the list of pieces a stream sends; it names the model it
    was asked of unless `names_model` is off (an answer that gives nothing away)."""
    digest = hashlib.sha256(f"{model}\0{prompt}".encode()).hexdigest()[:8]
    source = f"from {model}: " if names_model else "from me: "
    return [f"Answer {digest} ", source, "here are ", "the details ", "you asked for."]


def tokens(text: str) -> int:
    return max(1, len(text) // 4)


class WireHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeProvider/1.0"
    # Stream chunks go out as small writes; with Nagle on, each one after the first waits
    # for the client's delayed ACK (up to 40 ms), which no real provider adds.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 — the stdlib's signature
        pass

    @property
    def fake(self):
        """The FakeProvider this request is served for."""
        return self.server.fake

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

    def _fail_early(self, entry, anthropic: bool) -> bool:
        """Answer with a status-code fault; True when the request is done."""
        if entry.fault == "timeout":
            time.sleep(self.fake.hang)
        statuses = {
            "429": (429, "Rate limit exceeded, slow down."),
            "500": (500, "Internal server error, try again."),
            "401": (401, "Invalid API key provided."),
        }
        if entry.fault in statuses:
            entry.status, message = statuses[entry.fault]
            headers = {"Retry-After": f"{self.fake.retry_after:g}"} if entry.fault == "429" else {}
            self._error(entry.status, message, anthropic, headers)
            return True
        return False

    def _authorised(self, anthropic: bool) -> bool:
        if anthropic and self.headers.get("x-api-key"):
            return True
        return self.headers.get("Authorization", "").startswith("Bearer ")

    def _admit(self, path: str, body: dict, prompt: str, *, anthropic: bool):
        """Log the request; answer it at once when unauthorised or given a status-code fault.
        Returns its log entry, or None when it has been answered."""
        entry = self.fake.record(path, str(body.get("model", "")), prompt, bool(body.get("stream")))
        if not self._authorised(anthropic):
            entry.status = 401
            message = "x-api-key header is required" if anthropic else "No auth credentials found"
            self._error(401, message, anthropic)
            return None
        if self._fail_early(entry, anthropic):
            return None
        return entry
