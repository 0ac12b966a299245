"""Generated images and audio: hostile bytes in, verified and re-encoded files out.

A provider's MIME type, file name and headers are never trusted. Size caps are checked before
anything is decoded, the pixel cap before pixels are, and what is stored is our own encoding
of what decoded cleanly: PNG plus a WebP thumbnail for images, a rewritten PCM WAV plus a
waveform PNG for audio. Anything else raises `MediaRejected` with a message fit for a job's
error, and nothing is written.
"""

import array
import mimetypes
import sys
import wave
from dataclasses import dataclass
from io import BytesIO

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


# What a response's files are called in URLs that serve them by something other than their
# stored name (battle tokens): kind → (field, fallback field when it is empty).
MEDIA_KINDS = {
    "image": ("image", None),
    "thumb": ("image_thumb", "image"),
    "audio": ("audio", None),
    "waveform": ("waveform", None),
}


def media_file_response(response, kind: str, *, private: bool) -> HttpResponse:
    """The bytes of one of `response`'s files with only a content type: no file name,
    Last-Modified or ETag that could be matched against its public URL. 404 when absent."""
    if kind not in MEDIA_KINDS:
        raise Http404("No such file.")
    name, fallback = MEDIA_KINDS[kind]
    field = getattr(response, name) or (getattr(response, fallback) if fallback else None)
    if not field:
        raise Http404("No such file.")
    try:
        with field.open("rb") as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise Http404("No such file.") from exc
    content_type = mimetypes.guess_type(field.name)[0] or "application/octet-stream"
    http = HttpResponse(data, content_type=content_type)
    http["Cache-Control"] = "private, no-store" if private else "public, max-age=86400"
    return http
