"""Write the Pillow parity fixtures for test/preprocess/pil-parity.test.ts.

Each case is a deterministic 8-bit RGB image and Pillow's BILINEAR resize of it to a few sizes.
Images are raw interleaved RGB (row-major, 3 bytes per pixel), optionally delta-filtered like
PNG's Sub (each byte minus the byte 3 to the left) or Up (minus the byte one row above), modulo
256, whichever compresses best, then gzip'd; index.json lists the files with their filter.
The TypeScript resize must reproduce every output bit for bit.

Run with the Python that has Pillow 9.4 and numpy (from the repository root):
    /usr/bin/python3 training/make_pil_fixtures.py
"""

import gzip
import json
import pathlib

import numpy as np
import PIL
from PIL import Image

OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "pil"

# (name, width, height, content, target sizes as (width, height))
# Noise is incompressible, so the larger sizes carry gradients and hard edges instead.
# 224x224 -> 224x224 is left out: Pillow returns a copy, the TypeScript side the input itself.
CASES = [
    ("mixed-640x480", 640, 480, "mixed", [(224, 224), (32, 32), (299, 299)]),
    ("edges-640x512", 640, 512, "edges", [(224, 224), (32, 32)]),
    ("noise-320x240", 320, 240, "noise", [(224, 224), (32, 32)]),
    ("noise-160x120", 160, 120, "noise", [(224, 224), (299, 299), (32, 32)]),
    ("noise-300x17", 300, 17, "noise", [(224, 224), (32, 32)]),
    ("noise-1x1", 1, 1, "noise", [(224, 224), (32, 32), (3, 2)]),
    ("noise-7x500", 7, 500, "noise", [(224, 224), (32, 32)]),
    ("noise-224x224", 224, 224, "noise", [(32, 32), (150, 100)]),
    # Only one axis changes: Pillow skips the other pass.
    ("noise-96x131", 96, 131, "noise", [(96, 64), (96, 200)]),
    ("noise-131x96", 131, 96, "noise", [(64, 96), (200, 96)]),
    # Very large reduction factor (ksize 669) on one axis, upscale on the other.
    ("noise-1000x9", 1000, 9, "noise", [(3, 3), (224, 224)]),
]


def make_image(width: int, height: int, content: str, seed: int) -> np.ndarray:
    rng = np.random.RandomState(seed)
    if content == "noise":
        return rng.randint(0, 256, size=(height, width, 3), dtype=np.uint8)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = x * 255.0 / max(width - 1, 1)
    g = y * 255.0 / max(height - 1, 1)
    b = (x + y) % 256
    img = np.stack([r, g, b], axis=-1)
    if content == "edges":
        # Hard 0/255 stripes and a checkerboard: steps in every phase against the filter.
        img[(x.astype(int) // 13) % 2 == 0, 0] = 255
        img[((x.astype(int) // 7 + y.astype(int) // 5) % 2) == 0, 1] = 0
        img[(y.astype(int) % 3) == 0, 2] = 255
    elif content == "mixed":
        # Gradients with a noise band across the middle.
        band = slice(height // 3, height // 3 + height // 6)
        img[band] = rng.randint(0, 256, size=img[band].shape)
    else:
        raise ValueError(content)
    return np.rint(img).clip(0, 255).astype(np.uint8)


def write_raw(name: str, pixels: np.ndarray) -> dict:
    height, width, _ = pixels.shape
    sub = pixels.copy()
    sub[:, 1:] -= pixels[:, :-1]
    up = pixels.copy()
    up[1:] -= pixels[:-1]
    candidates = {
        f: gzip.compress(np.ascontiguousarray(a).tobytes(), 9, mtime=0)
        for f, a in (("none", pixels), ("sub", sub), ("up", up))
    }
    best = min(candidates, key=lambda f: len(candidates[f]))
    file = f"{name}.rgb.gz"
    (OUT_DIR / file).write_bytes(candidates[best])
    return {"width": width, "height": height, "file": file, "filter": best}


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for old in OUT_DIR.glob("*.rgb.gz"):
        old.unlink()
    cases = []
    for seed, (name, width, height, content, targets) in enumerate(CASES, start=1):
        pixels = make_image(width, height, content, seed)
        image = Image.fromarray(pixels, "RGB")
        outputs = []
        for tw, th in targets:
            resized = np.asarray(image.resize((tw, th), Image.Resampling.BILINEAR))
            assert resized.shape == (th, tw, 3)
            outputs.append(write_raw(f"{name}-to-{tw}x{th}", resized))
        cases.append({"name": name, "input": write_raw(name, pixels), "outputs": outputs})
    index = {
        "description": "Pillow Image.resize(size, BILINEAR) of 8-bit RGB images; gzip'd raw RGB, delta-filtered per 'filter'.",
        "pillow": PIL.__version__,
        "generator": "training/make_pil_fixtures.py",
        "cases": cases,
    }
    (OUT_DIR / "index.json").write_text(json.dumps(index, indent=2) + "\n")


if __name__ == "__main__":
    main()
