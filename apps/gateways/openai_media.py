"""Images and speech over the OpenAI-compatible wire.

Images come from the Images API (`images.generate`, always asking for base64 bytes) or,
on gateways without it (OpenRouter), from chat completions with `modalities: ["image",
"text"]`, where they arrive as data URLs. Speech comes from `audio.speech` as WAV, read with
a byte cap. The bytes are handed on untouched: `responses.media` verifies and re-encodes
them. A provider's MIME type is never trusted, and a URL instead of bytes is refused: we do
not fetch addresses a model hands us.
"""

import base64
import binascii
import time
from decimal import Decimal, InvalidOperation

from django.conf import settings

from apps.gateways.base import (
    CallDeadline,
    Completion,
    CompletionRequest,
    PermanentGatewayError,
)
from apps.gateways.limits import request_sent

SPEECH_VOICE = "alloy"
IMAGE_SIZE = "1024x1024"


def usage_cost(raw) -> Decimal | None:
    """A provider's reported cost (OpenRouter's `usage.cost`) as a Decimal, if readable."""
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        return None


def _decode(b64: object, what: str) -> bytes:
    if not isinstance(b64, str) or not b64:
        raise PermanentGatewayError(f"The provider sent no {what} bytes.")
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PermanentGatewayError(f"The provider's {what} is not valid base64.") from exc


def image_from_images_api(client, request: CompletionRequest) -> Completion:
    started = time.monotonic()
    answer = client.images.generate(
        model=request.model_id,
        prompt=request.prompt,
        n=1,
        size=IMAGE_SIZE,
        response_format="b64_json",
    ).to_dict()
    request_sent()
    data = (answer.get("data") or [{}])[0]
    if not data.get("b64_json") and data.get("url"):
        raise PermanentGatewayError("The provider answered with an image URL, not image bytes.")
    usage = answer.get("usage") or {}
    return Completion(
        content=data.get("revised_prompt") or "",
        finish_reason="stop",
        latency_ms=int((time.monotonic() - started) * 1000),
        tokens_in=usage.get("input_tokens"),
        tokens_out=usage.get("output_tokens"),
        media=_decode(data.get("b64_json"), "image"),
    )


def image_from_chat(client, request: CompletionRequest) -> Completion:
    started = time.monotonic()
    answer = client.chat.completions.create(
        model=request.model_id,
        messages=[{"role": "user", "content": request.prompt}],
        extra_body={"modalities": ["image", "text"], "usage": {"include": True}},
    ).to_dict()
    request_sent()
    choice = (answer.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    images = message.get("images") or []
    url = ((images[0] if images else {}).get("image_url") or {}).get("url", "")
    if not url.startswith("data:") or ";base64," not in url:
        raise PermanentGatewayError("The provider's answer holds no image as a base64 data URL.")
    usage = answer.get("usage") or {}
    cost = usage.get("cost")
    return Completion(
        content=message.get("content") or "",
        finish_reason=choice.get("finish_reason") or "stop",
        latency_ms=int((time.monotonic() - started) * 1000),
        tokens_in=usage.get("prompt_tokens"),
        tokens_out=usage.get("completion_tokens"),
        cost_usd=usage_cost(cost),
        request_id=answer.get("id") or "",
        # The data URL's MIME type is the provider's claim: ignored, the bytes are verified.
        media=_decode(url.split(";base64,", 1)[1], "image"),
    )


def speech(client, request: CompletionRequest, *, deadline: float) -> Completion:
    started = time.monotonic()
    call = CallDeadline(deadline, since=started)
    cap = settings.RESPONSE_AUDIO_MAX_BYTES
    with client.audio.speech.with_streaming_response.create(
        model=request.model_id, voice=SPEECH_VOICE, input=request.prompt, response_format="wav"
    ) as answer:
        request_sent()
        body = bytearray()
        for chunk in answer.iter_bytes():
            call.check()
            body += chunk
            if len(body) > cap:
                # Stop reading: the rest is never wanted, and verification says why.
                break
        request_id = answer.headers.get("x-request-id", "")
    return Completion(
        content="",
        finish_reason="stop",
        latency_ms=int((time.monotonic() - started) * 1000),
        request_id=request_id,
        media=bytes(body),
    )
