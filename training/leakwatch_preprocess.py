"""The service's preprocessing definition (docs/preprocessing.md), implemented once for Python.

Training, evaluation and the parity fixtures all go through this module, so the model sees
exactly what the service will feed it.
"""
import warnings

import numpy as np
import torch
from PIL import Image

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
INPUT_SIZE = (224, 224)  # (height, width)

# convert('RGB') drops palette transparency on purpose (the definition says so); PIL warns.
warnings.filterwarnings('ignore', message='Palette images with Transparency')


def load_rgb8(path):
    """Decodes a PNG to an 8-bit RGB PIL image: 16-bit keeps the high byte, grey is replicated,
    alpha and tRNS are dropped without compositing."""
    with Image.open(path) as img:
        img.load()
        if img.mode in ('I', 'I;16', 'I;16B', 'I;16L'):
            # PIL keeps 16-bit grey at full range; take the high byte as libvips does.
            a = np.asarray(img, dtype=np.uint32) >> 8
            return Image.fromarray(a.astype(np.uint8), 'L').convert('RGB')
        return img.convert('RGB')


def resize(img, size=INPUT_SIZE):
    """PIL bilinear resize to (height, width), skipped at the input size."""
    h, w = size
    if img.size == (w, h):
        return img
    return img.resize((w, h), Image.BILINEAR)


def to_uint8_chw(img, size=INPUT_SIZE):
    """Decoded and resized, as a uint8 CHW tensor (compact for caching)."""
    a = np.asarray(resize(img, size), dtype=np.uint8)
    return torch.from_numpy(a.transpose(2, 0, 1).copy())


_MEAN_T = torch.tensor(MEAN, dtype=torch.float32).view(1, 3, 1, 1)
_STD_T = torch.tensor(STD, dtype=torch.float32).view(1, 3, 1, 1)


def normalize_uint8(batch):
    """uint8 NCHW -> float32 NCHW: x = (v / 255 - mean) / std."""
    return (batch.to(torch.float32) / 255.0 - _MEAN_T) / _STD_T


def to_tensor(img, size=INPUT_SIZE):
    """One image as the float32 CHW tensor the model takes."""
    return normalize_uint8(to_uint8_chw(img, size).unsqueeze(0))[0]


def preprocess_path(path, size=INPUT_SIZE):
    return to_tensor(load_rgb8(path), size)
