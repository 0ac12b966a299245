"""Deterministic pictures and speech for the offline demo gateway and the fake provider.

The same (model, prompt) always gives the same bytes; different models give different ones.
A picture is a small poster of coloured shapes seeded by the pair; speech is a short mono
16-bit WAV of tones whose rhythm follows the prompt's words.
"""

import hashlib
import math
import random
import struct
import wave
from io import BytesIO

from PIL import Image, ImageDraw

PICTURE_SIZE = (512, 512)
SPEECH_RATE = 16000
SPEECH_MAX_WORDS = 24


def _rng(model: str, prompt: str) -> random.Random:
    digest = hashlib.sha256(f"{model}\0{prompt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def picture_for(model: str, prompt: str) -> bytes:
    """A PNG poster: a sky gradient, a sun, hills and a few shapes, all seeded."""
    rng = _rng(model, prompt)
    width, height = PICTURE_SIZE
    image = Image.new("RGB", PICTURE_SIZE)
    draw = ImageDraw.Draw(image)
    top = tuple(rng.randrange(40, 200) for _ in range(3))
    bottom = tuple(rng.randrange(150, 256) for _ in range(3))
    for y in range(height):
        t = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)),
        )
    sun = (rng.randrange(80, width - 80), rng.randrange(60, height // 2))
    radius = rng.randrange(30, 70)
    draw.ellipse(
        (sun[0] - radius, sun[1] - radius, sun[0] + radius, sun[1] + radius),
        fill=(255, rng.randrange(170, 240), rng.randrange(40, 120)),
    )
    for layer in range(3):
        base = height * (0.55 + 0.12 * layer)
        colour = tuple(rng.randrange(20, 120) for _ in range(3))
        points = [(0, height)]
        for x in range(0, width + 64, 64):
            points.append((x, base + rng.randrange(-40, 40)))
        points.append((width, height))
        draw.polygon(points, fill=colour)
    for _ in range(rng.randrange(2, 6)):
        x, y = rng.randrange(0, width), rng.randrange(height // 2, height)
        size = rng.randrange(10, 40)
        draw.rectangle((x, y, x + size, y + size), fill=tuple(rng.randrange(256) for _ in range(3)))
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def speech_for(model: str, prompt: str) -> bytes:
    """A WAV of one soft tone per word (up to SPEECH_MAX_WORDS), pitched by the model."""
    rng = _rng(model, prompt)
    base = 140 + rng.randrange(0, 120)
    frames = bytearray()
    for word in prompt.split()[:SPEECH_MAX_WORDS] or ["…"]:
        seconds = 0.08 + 0.03 * min(len(word), 10)
        freq = base * (1 + (sum(map(ord, word)) % 7) / 12)
        count = int(SPEECH_RATE * seconds)
        for i in range(count):
            envelope = math.sin(math.pi * i / count)
            sample = 0.45 * envelope * math.sin(2 * math.pi * freq * i / SPEECH_RATE)
            frames += struct.pack("<h", int(sample * 32767))
        frames += bytes(2 * int(SPEECH_RATE * 0.05))
    out = BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(SPEECH_RATE)
        target.writeframes(bytes(frames))
    return out.getvalue()
