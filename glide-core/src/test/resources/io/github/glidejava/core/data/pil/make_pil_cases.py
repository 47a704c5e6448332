"""Generates the Pillow references for training-image preparation (RgbImageTest, DatasetLoaderTest): a few small
pictures (PNG RGB, PNG RGBA, PNG grey+alpha, GIF with a transparent palette entry, lossless WebP with alpha) and, in cases.json, what Pillow
makes of them: alpha composited on an opaque background, then resized (BICUBIC) so the shorter side is `size`.
Run once from this folder with Debian's Pillow: /usr/bin/python3 make_pil_cases.py"""
import json
import PIL
from PIL import Image


def value(x, y, c, salt):
    # Ramps plus sharp detail so that the cubic filter overshoots and clamping matters.
    return (x * 37 + y * 91 + c * 53 + x * y * 7 + salt + (255 if (x + y + c) % 5 == 0 else 0)) % 256


def picture(mode, w, h, salt):
    bands = {"RGB": 3, "RGBA": 4, "LA": 2}[mode]
    data = bytearray()
    for y in range(h):
        for x in range(w):
            for c in range(bands):
                if c == bands - 1 and mode in ("RGBA", "LA"):
                    # alpha: fully transparent, fully opaque and in-between pixels
                    data.append(0 if (x + 2 * y) % 7 == 0 else 255 if (x * y) % 3 == 0 else (x * 29 + y * 13) % 256)
                else:
                    data.append(value(x, y, c, salt))
    return Image.frombytes(mode, (w, h), bytes(data))


def gif(w, h):
    img = picture("RGB", w, h, 11).quantize(colors=16)
    px = img.load()
    for y in range(h):
        for x in range(w):
            if (x + y) % 6 == 0:
                px[x, y] = 15
    img.info["transparency"] = 15
    return img


def prepare(img, size, bg):
    rgba = img.convert("RGBA")
    rgb = Image.alpha_composite(Image.new("RGBA", rgba.size, bg + (255,)), rgba).convert("RGB")
    w, h = rgb.size
    short, long_ = min(w, h), max(w, h)
    scaled = max(size, (2 * long_ * size + short) // (2 * short))
    out = (size, scaled) if w <= h else (scaled, size)
    return rgb.resize(out, resample=Image.BICUBIC) if out != rgb.size else rgb


files = {
    "rgb_37x23.png": picture("RGB", 37, 23, 0),
    "rgba_21x30.png": picture("RGBA", 21, 30, 5),
    "la_13x9.png": picture("LA", 13, 9, 3),
    "palette_16x12.gif": gif(16, 12),
    "rgba_lossless_18x11.webp": picture("RGBA", 18, 11, 7),
}
cases = []
for name, img in files.items():
    if name.endswith(".gif"):
        img.save(name, transparency=15)
    elif name.endswith(".webp"):
        img.save(name, lossless=True, exact=True)
    else:
        img.save(name)
    for size in (8, 16, 40):
        for bg in ((255, 255, 255), (30, 140, 200)):
            out = prepare(Image.open(name), size, bg)
            cases.append({"file": name, "size": size, "background": "%02x%02x%02x" % bg,
                          "width": out.size[0], "height": out.size[1], "rgb_hex": out.tobytes().hex()})
with open("cases.json", "w") as f:
    json.dump({"pillow_version": PIL.__version__, "cases": cases}, f, indent=0)
