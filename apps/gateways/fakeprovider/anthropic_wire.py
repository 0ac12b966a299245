"""Anthropic `/v1/messages`, plain and as streamed events."""

import json
import time

from apps.gateways.fakeprovider.wire import WireHandler, answer_for, tokens


class AnthropicRoutes(WireHandler):
    def _anthropic(self, body: dict) -> None:
        messages = body.get("messages") or []
        content = messages[-1].get("content", "") if messages else ""
        if isinstance(content, list):
            content = "".join(block.get("text", "") for block in content)
        prompt = str(content)
        entry = self._admit("/v1/messages", body, prompt, anthropic=True)
        if entry is None:
            return
        model, stream = entry.model, entry.stream
        pieces = answer_for(model, prompt, self.fake.names_model)
        ident = f"msg_{entry.prompt_sha}{entry.attempt}"
        usage = {"input_tokens": tokens(prompt), "output_tokens": tokens("".join(pieces))}
        if not stream:
            time.sleep(self.fake.latency)
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

        time.sleep(self.fake.latency / 2)
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
        step = self.fake.latency / 2 / len(pieces)
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
