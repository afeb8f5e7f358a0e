"""ImageFolder loading into an in-memory uint8 cache, decoded with the service's preprocessing."""
import csv
import multiprocessing
import os

import numpy as np
import torch

from leakwatch_preprocess import INPUT_SIZE, load_rgb8, resize

# The exported model's class order: index 0 = Normal, index 1 = Leak.
LABELS = ['Normal', 'Leak']


def list_image_folder(root):
    """(path, label index) pairs of an ImageFolder root whose class folders are leak and normal.

    torchvision's ImageFolder would sort 'leak' before 'normal'; we map by name instead so the
    model's index 1 is always the leak class."""
    items = []
    names = {d.lower(): d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d))}
    if set(names) != {'leak', 'normal'}:
        raise SystemExit(f'{root}: expected class folders leak/ and normal/, found {sorted(names)}')
    for key, index in (('normal', 0), ('leak', 1)):
        folder = os.path.join(root, names[key])
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith('.png'):
                items.append((os.path.join(folder, name), index))
    return items


def _load(path):
    # Workers return numpy arrays: torch in a forked child can deadlock on the parent's thread pool.
    return np.asarray(resize(load_rgb8(path), INPUT_SIZE), dtype=np.uint8).transpose(2, 0, 1).copy()


def load_cache(items, workers):
    """Decodes and resizes every image once; returns (uint8 NCHW tensor, int64 labels)."""
    paths = [p for p, _ in items]
    if workers > 1:
        with multiprocessing.get_context('spawn').Pool(workers) as pool:
            arrays = pool.map(_load, paths, chunksize=32)
    else:
        arrays = [_load(p) for p in paths]
    return torch.from_numpy(np.stack(arrays)), torch.tensor([y for _, y in items], dtype=torch.int64)


def read_boxes(root):
    """Leak bounding boxes from the generator's labels.csv, as path -> (x0, y0, x1, y1) in [0, 1];
    an empty dict when the root has no labels.csv (any ImageFolder still trains, without them)."""
    path = os.path.join(root, 'labels.csv')
    if not os.path.exists(path):
        return {}
    boxes = {}
    with open(path) as f:
        for row in csv.DictReader(f):
            if row.get('leak_x0'):
                w, h = float(row['width']), float(row['height'])
                boxes[os.path.join(root, row['path'])] = (
                    float(row['leak_x0']) / w, float(row['leak_y0']) / h, float(row['leak_x1']) / w, float(row['leak_y1']) / h)
    return boxes


def box_targets(items, boxes, grid=14):
    """Per image, the fraction of each grid cell the leak's box covers: [N, 1, grid, grid]
    (all zeros for normal images; -1, meaning unknown, for leak images without a box).
    Used for the auxiliary localisation loss only."""
    out = torch.zeros(len(items), 1, grid, grid)
    edges = torch.arange(grid + 1, dtype=torch.float32) / grid
    for i, (path, label) in enumerate(items):
        box = boxes.get(path)
        if box is None:
            if label == 1:
                out[i] = -1
            continue
        x0, y0, x1, y1 = box
        ox = (torch.minimum(edges[1:], torch.tensor(x1)) - torch.maximum(edges[:-1], torch.tensor(x0))).clamp(min=0) * grid
        oy = (torch.minimum(edges[1:], torch.tensor(y1)) - torch.maximum(edges[:-1], torch.tensor(y0))).clamp(min=0) * grid
        out[i, 0] = oy[:, None] * ox[None, :]
    return out
