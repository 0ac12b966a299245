"""OpenAI-compatible `/v1/chat/completions`, plain and SSE-streamed (usage in the last chunk)."""

import json
import time

from apps.gateways.fakeprovider.wire import WireHandler, answer_for, tokens


class OpenAIRoutes(WireHandler):
    def _openai(self, body: dict) -> None:
        messages = body.get("messages") or []
        prompt = str(messages[-1].get("content", "")) if messages else ""
        entry = self._admit("/v1/chat/completions", body, prompt, anthropic=False)
        if entry is None:
            return
        model, stream = entry.model, entry.stream
        pieces = answer_for(model, prompt, self.fake.names_model)
        usage = {
            "prompt_tokens": tokens(prompt),
            "completion_tokens": tokens("".join(pieces)),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        usage["cost"] = round(usage["total_tokens"] * 0.000001, 8)
        ident = f"gen-{entry.prompt_sha}-{entry.attempt}"
        if not stream:
            time.sleep(self.fake.latency)
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

        time.sleep(self.fake.latency / 2)
        self._start_sse()
        self._chunk(chunk({"role": "assistant", "content": ""}))
        step = self.fake.latency / 2 / len(pieces)
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
