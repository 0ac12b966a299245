"""The fake provider's image and speech routes, with the hostile-media faults.

`/v1/images/generations` answers with base64 bytes, chat completions that ask for
`modalities: ["image", …]` answer with a data URL in `message.images` (OpenRouter's shape),
and `/v1/audio/speech` answers with WAV bytes. The faults `badmedia` (corrupt bytes),
`wrongmime` (something else under an image/audio label) and `oversize` (a real file over
Rival's caps) test that nothing hostile is stored.
"""

import base64
import functools
import time
import wave
from io import BytesIO

from PIL import Image

from apps.gateways.fakeprovider.wire import WireHandler, tokens
from apps.gateways.synthetic_media import picture_for, speech_for

OVERSIZE_PIXELS = (5000, 5000)
OVERSIZE_SECONDS = 400


@functools.cache
def _oversize_picture() -> bytes:
    out = BytesIO()
    Image.new("L", OVERSIZE_PIXELS, 200).save(out, "PNG")
    return out.getvalue()


@functools.cache
def _oversize_speech() -> bytes:
    out = BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(1)
        target.setframerate(8000)
        target.writeframes(bytes([128]) * 8000 * OVERSIZE_SECONDS)
    return out.getvalue()


HOSTILE_PICTURES = {
    "badmedia": lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "wrongmime": lambda: b"<!doctype html><script>alert(document.cookie)</script>",
    "oversize": _oversize_picture,
}
HOSTILE_SPEECH = {
    "badmedia": lambda: b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)),
    "wrongmime": lambda: b"ID3\x03\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64" + bytes(2000),
    "oversize": _oversize_speech,
}


class MediaRoutes(WireHandler):
    def _media_entry(self, path: str, body: dict, prompt: str):
        """The shared admission (log, auth, status faults), then the configured latency."""
        entry = self._admit(path, body, prompt, anthropic=False)
        if entry is not None:
            time.sleep(self.fake.latency)
        return entry

    def _picture(self, entry, model: str, prompt: str) -> bytes:
        hostile = HOSTILE_PICTURES.get(entry.fault)
        return hostile() if hostile else picture_for(model, prompt)

    def _images(self, body: dict) -> None:
        model, prompt = str(body.get("model", "")), str(body.get("prompt", ""))
        entry = self._media_entry("/v1/images/generations", body, prompt)
        if entry is None:
            return
        data = base64.b64encode(self._picture(entry, model, prompt)).decode()
        self._json(
            200,
            {
                "created": int(time.time()),
                "data": [{"b64_json": data}],
                "usage": {"input_tokens": tokens(prompt), "output_tokens": 1056},
            },
        )

    def _chat_image(self, body: dict) -> None:
        model = str(body.get("model", ""))
        messages = body.get("messages") or []
        prompt = str(messages[-1].get("content", "")) if messages else ""
        entry = self._media_entry("/v1/chat/completions", body, prompt)
        if entry is None:
            return
        data = base64.b64encode(self._picture(entry, model, prompt)).decode()
        self._json(
            200,
            {
                "id": f"gen-{entry.prompt_sha}-{entry.attempt}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": "Here is your image.",
                            "images": [
                                {
                                    "type": "image_url",
                                    "image_url": {"url": f"data:image/png;base64,{data}"},
                                }
                            ],
                        },
                    }
                ],
                "usage": {
                    "prompt_tokens": tokens(prompt),
                    "completion_tokens": 1290,
                    "total_tokens": tokens(prompt) + 1290,
                    "cost": 0.0387,
                },
            },
        )

    def _speech(self, body: dict) -> None:
        model, text = str(body.get("model", "")), str(body.get("input", ""))
        entry = self._media_entry("/v1/audio/speech", body, text)
        if entry is None:
            return
        hostile = HOSTILE_SPEECH.get(entry.fault)
        audio = hostile() if hostile else speech_for(model, text)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(audio)))
        self.end_headers()
        self.wfile.write(audio)
