"""Generated images and audio: hostile bytes in, verified and re-encoded files out.

A provider's MIME type, file name and headers are never trusted. Size caps are checked before
anything is decoded, the pixel cap before pixels are, and what is stored is our own encoding
of what decoded cleanly: PNG plus a WebP thumbnail for images, a rewritten PCM WAV plus a
waveform PNG for audio. Anything else raises `MediaRejected` with a message fit for a job's
error, and nothing is written.
"""

import array
import sys
import wave
from dataclasses import dataclass
from io import BytesIO

import numpy as np
from django.conf import settings
from django.http import Http404, HttpResponse
from PIL import Image, ImageDraw

THUMB_WIDTH = 480
IMAGE_FORMATS = {"PNG", "JPEG", "WEBP", "GIF"}
WAVEFORM_SIZE = (600, 80)
WAVEFORM_BARS = 150
WAVEFORM_COLOUR = (67, 56, 202)


class MediaRejected(ValueError):
    """Bytes that are not an acceptable image or audio file; the message says why."""


@dataclass(frozen=True)
class VerifiedImage:
    png: bytes
    width: int
    height: int
    thumbnail: bytes  # WebP, THUMB_WIDTH wide at most


@dataclass(frozen=True)
class VerifiedAudio:
    wav: bytes
    duration_ms: int
    waveform: bytes  # PNG


def _size_check(kind: str, data: bytes, cap: int) -> None:
    if not data:
        raise MediaRejected(f"the {kind} is empty")
    if len(data) > cap:
        raise MediaRejected(f"the {kind} is {len(data):,} bytes, over the {cap:,}-byte cap")


def image_verify(data: bytes) -> VerifiedImage:
    """Decode `data` as PNG, JPEG, WebP or GIF (first frame) within the byte and pixel caps
    and re-encode it; raises MediaRejected otherwise."""
    _size_check("image", data, settings.RESPONSE_IMAGE_MAX_BYTES)
    try:
        with Image.open(BytesIO(data)) as probe:
            if probe.format not in IMAGE_FORMATS:
                raise MediaRejected(f"the image is {probe.format or 'of an unknown format'}")
            width, height = probe.size
            if width * height > settings.RESPONSE_IMAGE_MAX_PIXELS:
                raise MediaRejected(
                    f"the image is {width}×{height} pixels, over the "
                    f"{settings.RESPONSE_IMAGE_MAX_PIXELS:,}-pixel cap"
                )
            probe.verify()
        with Image.open(BytesIO(data)) as image:
            image.load()
            has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
            clean = image.convert("RGBA" if has_alpha else "RGB")
    except MediaRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaRejected(
            f"the image claims a size over the {settings.RESPONSE_IMAGE_MAX_PIXELS:,}-pixel cap"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise MediaRejected("the image bytes are not a readable PNG, JPEG, WebP or GIF") from exc
    png = BytesIO()
    clean.save(png, "PNG")
    thumb = clean.copy()
    thumb.thumbnail((THUMB_WIDTH, THUMB_WIDTH * 4))
    webp = BytesIO()
    thumb.save(webp, "WEBP", quality=80)
    return VerifiedImage(png.getvalue(), width, height, webp.getvalue())


def audio_verify(data: bytes) -> VerifiedAudio:
    """Read `data` as an uncompressed 8- or 16-bit PCM WAV within the byte and duration caps,
    rewrite it from its samples and draw its waveform; raises MediaRejected otherwise."""
    _size_check("audio", data, settings.RESPONSE_AUDIO_MAX_BYTES)
    try:
        with wave.open(BytesIO(data), "rb") as source:
            params = source.getparams()
            frames = source.readframes(params.nframes)
    except (wave.Error, EOFError, ValueError) as exc:
        raise MediaRejected("the audio is not a readable PCM WAV file") from exc
    if params.sampwidth not in (1, 2) or params.nchannels not in (1, 2):
        raise MediaRejected("the audio must be 8- or 16-bit PCM, mono or stereo")
    if not 8000 <= params.framerate <= 96000:
        raise MediaRejected(f"the audio's sample rate ({params.framerate} Hz) is not plausible")
    frame_bytes = params.sampwidth * params.nchannels
    if params.nframes == 0 or len(frames) != params.nframes * frame_bytes:
        raise MediaRejected("the audio is empty or cut short")
    duration_ms = params.nframes * 1000 // params.framerate
    if duration_ms > settings.RESPONSE_AUDIO_MAX_SECONDS * 1000:
        raise MediaRejected(
            f"the audio lasts {duration_ms / 1000:.0f} s, over the "
            f"{settings.RESPONSE_AUDIO_MAX_SECONDS} s cap"
        )
    out = BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(params.nchannels)
        target.setsampwidth(params.sampwidth)
        target.setframerate(params.framerate)
        target.writeframes(frames)
    return VerifiedAudio(out.getvalue(), duration_ms, waveform_png(_peaks(frames, params)))


def _peaks(frames: bytes, params) -> list[float]:
    """The loudest sample of each of WAVEFORM_BARS slices of the sound, scaled to 0..1 (all
    channels together); max/min over array slices keep this at C speed."""
    if params.sampwidth == 1:
        samples, centre, scale = array.array("B", frames), 128, 128
    else:
        samples, centre, scale = array.array("h", frames), 0, 32768
        if sys.byteorder == "big":
            samples.byteswap()
    step = max(len(samples) // WAVEFORM_BARS, 1)
    peaks = []
    for index in range(WAVEFORM_BARS):
        chunk = samples[index * step : (index + 1) * step]
        loudest = max(max(chunk) - centre, centre - min(chunk)) if chunk else 0
        peaks.append(min(loudest / scale, 1.0))
    return peaks


def waveform_png(peaks: list[float]) -> bytes:
    """A bar per slice of the sound, as tall as its loudest sample."""
    width, height = WAVEFORM_SIZE
    image = Image.new("RGBA", WAVEFORM_SIZE, (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    bar = width / len(peaks)
    for index, peak in enumerate(peaks):
        half = max(peak * (height / 2 - 2), 1)
        x = index * bar
        draw.rectangle(
            (x + 1, height / 2 - half, x + bar - 1, height / 2 + half), fill=WAVEFORM_COLOUR
        )
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


# --- Battle copies -----------------------------------------------------------------------------
# The arena serves a response's files under battle tokens, and nothing about them may be matched
# against the public files (docs/arena.md): not the bytes, their digest or exact length, the
# duration, a file name, a date or a validator. Each copy is re-encoded from the stored one with
# small changes nobody can see or hear, drawn from a seed that differs per battle and side.

BATTLE_IMAGE_NUDGES = 16
# Silence before and after a battle's audio, in seconds: enough that the length and duration
# never match the public file, too little to notice before the sound starts.
BATTLE_AUDIO_PAD_SECONDS = (0.03, 0.35)
# One sample in this many moves by one quantisation step (-90 dB at 16 bits): inaudible, and no
# two copies share a digest.
BATTLE_AUDIO_NUDGE_ONE_IN = 8


def _read(field) -> bytes:
    try:
        with field.open("rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise Http404("No such file.") from exc


def _battle_reply(data: bytes, content_type: str) -> HttpResponse:
    """Only a content type: no file name, ETag or Last-Modified; never stored anywhere."""
    reply = HttpResponse(data, content_type=content_type)
    reply["Cache-Control"] = "private, no-store"
    reply["X-Content-Type-Options"] = "nosniff"
    reply["Referrer-Policy"] = "no-referrer"
    reply["Cross-Origin-Resource-Policy"] = "same-origin"
    return reply


def _png_unlike(image: Image.Image, rng: np.random.Generator, avoid: bytes) -> bytes:
    """`image` as PNG without metadata, a few random pixels nudged by one level, and never the
    same bytes or byte length as `avoid` (the stored file)."""
    image = image.convert("RGBA")
    pixels = image.load()
    while True:
        for _ in range(BATTLE_IMAGE_NUDGES):
            x, y = int(rng.integers(image.width)), int(rng.integers(image.height))
            r, g, b, a = pixels[x, y]
            pixels[x, y] = (r ^ 1, g, b, a) if a else (r, g, b, 1)
        out = BytesIO()
        image.save(out, "PNG")
        if len(out.getvalue()) != len(avoid):
            return out.getvalue()


def battle_image(response, seed: bytes) -> HttpResponse:
    """A battle's copy of `response`'s image (for the full image and the thumbnail alike). The
    view passes a fresh seed per load: each copy differs from every other."""
    if not response.image:
        raise Http404("No such file.")
    stored = _read(response.image)
    with Image.open(BytesIO(stored)) as source:
        source.load()
        data = _png_unlike(source, _rng(seed, "image"), stored)
    return _battle_reply(data, "image/png")


def _rng(seed: bytes, purpose: str) -> np.random.Generator:
    return np.random.default_rng(list((seed + purpose.encode()).ljust(32, b"\0")))


def _battle_sound(response, seed: bytes) -> tuple[bytes, object]:
    """(the battle copy's frames, their wave params): the stored samples with random silence
    before and after and a sparse one-step nudge."""
    stored = _read(response.audio)
    with wave.open(BytesIO(stored), "rb") as source:
        params = source.getparams()
        frames = source.readframes(params.nframes)
    rng = _rng(seed, "audio")
    dtype, silence = (np.uint8, 128) if params.sampwidth == 1 else (np.dtype("<i2"), 0)
    samples = np.frombuffer(frames, dtype=dtype).astype(np.int32)
    nudged = rng.integers(BATTLE_AUDIO_NUDGE_ONE_IN, size=samples.size) == 0
    samples[nudged] += rng.choice((-1, 1), size=int(nudged.sum()))
    info = np.iinfo(dtype)
    samples = np.clip(samples, info.min, info.max).astype(dtype)
    low, high = (int(s * params.framerate) for s in BATTLE_AUDIO_PAD_SECONDS)
    lead, tail = (int(n) * params.nchannels for n in rng.integers(low, high, size=2))
    padded = np.concatenate(
        [np.full(lead, silence, dtype), samples, np.full(tail, silence, dtype)]
    ).tobytes()
    return padded, params


def battle_audio(response, seed: bytes) -> HttpResponse:
    """A battle's copy of `response`'s audio: see _battle_sound. The same battle side gets the
    same copy on every load (a player may fetch it twice), another battle a different one."""
    if not response.audio:
        raise Http404("No such file.")
    # At least BATTLE_AUDIO_PAD_SECONDS[0] of silence at each end: never the stored length.
    frames, params = _battle_sound(response, seed)
    out = BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(params.nchannels)
        target.setsampwidth(params.sampwidth)
        target.setframerate(params.framerate)
        target.writeframes(frames)
    return _battle_reply(out.getvalue(), "audio/wav")


def battle_waveform(response, seed: bytes) -> HttpResponse:
    """The waveform of the battle's copy of the audio (its silence shifts the bars), drawn
    afresh with a few invisible pixels nudged."""
    if not response.audio or not response.waveform:
        raise Http404("No such file.")
    frames, params = _battle_sound(response, seed)
    with Image.open(BytesIO(waveform_png(_peaks(frames, params)))) as drawn:
        drawn.load()
        data = _png_unlike(drawn, _rng(seed, "waveform"), _read(response.waveform))
    return _battle_reply(data, "image/png")
