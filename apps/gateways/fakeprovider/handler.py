"""The fake provider's request handler: one route table over both wire protocols."""

from apps.gateways.fakeprovider.anthropic_wire import AnthropicRoutes
from apps.gateways.fakeprovider.openai_wire import OpenAIRoutes


class Handler(OpenAIRoutes, AnthropicRoutes):
    def do_GET(self):
        if self.path.rstrip("/") in ("/v1/models", "/api/v1/models"):
            self._json(200, {"data": self.fake.models})
        elif self.path.startswith("/_stats"):
            self._json(200, self.fake.stats())
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
            self.fake.reset()
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": {"message": f"No route {self.path}"}})

    def _authorised(self, anthropic: bool) -> bool:
        if anthropic and self.headers.get("x-api-key"):
            return True
        return self.headers.get("Authorization", "").startswith("Bearer ")
