"""Image and audio bytes for tests: honest files and the hostile ones a provider might send."""

import math
import struct
import wave
import zlib
from io import BytesIO

from PIL import Image


def png(width: int = 64, height: int = 48, colour=(200, 80, 40)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


def bmp() -> bytes:
    out = BytesIO()
    Image.new("RGB", (8, 8)).save(out, "BMP")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge canvas (a decompression bomb's first bytes)."""
    data = bytearray(png(8, 8))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))  # IHDR's checksum
    return bytes(data)


def wav(seconds: float = 0.5, rate: int = 8000, freq: float = 440.0) -> bytes:
    out = BytesIO()
    with wave.open(out, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(12000 * math.sin(2 * math.pi * freq * i / rate)))
            for i in range(int(seconds * rate))
        )
        target.writeframes(frames)
    return out.getvalue()


MP3_HEADER = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + bytes(400)
