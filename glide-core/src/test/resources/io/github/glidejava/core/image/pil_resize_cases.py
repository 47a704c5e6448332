"""Generates pil_resize_cases.json: Pillow's resize of a deterministic test pattern, the reference for
ResamplingTest. Run with Pillow installed: python3 pil_resize_cases.py (Pillow 12.3.0 made the committed file)."""
import json
import PIL
from PIL import Image


def pattern(width, height, channels):
    # Smooth ramps plus high-frequency content, so that the cubic kernel overshoots and clamping matters.
    data = bytearray()
    for y in range(height):
        for x in range(width):
            for c in range(channels):
                data.append((x * 37 + y * 91 + c * 53 + x * y * 7 + (255 if (x + y + c) % 5 == 0 else 0)) % 256)
    return bytes(data)


cases = []
for (w, h) in [(37, 23), (8, 8)]:
    src = Image.frombytes("RGB", (w, h), pattern(w, h, 3))
    for (ow, oh) in [(64, 64), (16, 16), (11, 7), (w, 50), (5, h), (1, 1), (3 * w, 2 * h)]:
        out = src.resize((ow, oh), resample=Image.BICUBIC)
        cases.append({"filter": "bicubic", "mode": "RGB", "width": w, "height": h, "out_width": ow, "out_height": oh,
                      "input_hex": src.tobytes().hex(), "output_hex": out.tobytes().hex()})
    gray = Image.frombytes("L", (w, h), pattern(w, h, 1))
    for (ow, oh) in [(64, 64), (16, 16), (11, 7), (2 * w, 3 * h), (3, 2)]:
        out = gray.resize((ow, oh), resample=Image.NEAREST)
        cases.append({"filter": "nearest", "mode": "L", "width": w, "height": h, "out_width": ow, "out_height": oh,
                      "input_hex": gray.tobytes().hex(), "output_hex": out.tobytes().hex()})
with open("pil_resize_cases.json", "w") as f:
    json.dump({"pillow_version": PIL.__version__, "cases": cases}, f, indent=0)
