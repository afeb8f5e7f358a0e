"""Writes test/fixtures/parity/: small PNGs from the TS generator covering every size and colour
type, and expected.json with the probabilities PyTorch computes for them through
leakwatch_preprocess (the service must match: |d| <= 1e-4 at input size, <= 0.02 when resized)."""
import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

import torch

from leakwatch_preprocess import INPUT_SIZE, preprocess_path
from model import load_checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Which images of the 50-image cycle to keep: every colour type at the small sizes and at
# 320x240, and the large sizes only in their most compact colour types, to keep the fixtures small.
KEEP = {
    (160, 120): None, (224, 224): None, (320, 240): None,
    (640, 480): {'gray', 'palette'}, (640, 512): {'gray', 'palette'},
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--checkpoint', default='training/runs/resnet18_binary.pt')
    p.add_argument('--model', default='models/resnet18_binary_finetuned.onnx', help='recorded by hash only')
    p.add_argument('--out', default='test/fixtures/parity')
    p.add_argument('--seed', type=int, default=4)
    return p.parse_args()


def main():
    args = parse_args()
    torch.set_num_threads(os.cpu_count())
    model, _ = load_checkpoint(args.checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(['npx', 'tsx', 'src/synth/main.ts', '--out', tmp, '--count', '50', '--seed', str(args.seed), '--quiet'],
                       cwd=ROOT, check=True)
        with open(os.path.join(tmp, 'labels.csv')) as f:
            rows = list(csv.DictReader(f))
        if os.path.isdir(args.out):
            for name in os.listdir(args.out):
                if name.endswith('.png') or name == 'expected.json':
                    os.remove(os.path.join(args.out, name))
        os.makedirs(args.out, exist_ok=True)
        expected, seen_320 = {}, set()
        for row in rows:
            w, h, ct = int(row['width']), int(row['height']), row['colour_type']
            keep = KEEP[(w, h)]
            if keep is not None and ct not in keep:
                continue
            if (w, h) in ((320, 240), (640, 480), (640, 512)):
                if (w, h, ct) in seen_320:
                    continue
                seen_320.add((w, h, ct))
            name = f'{w}x{h}_{ct}_{row["label"]}_{os.path.basename(row["path"])}'
            shutil.copy(os.path.join(tmp, row['path']), os.path.join(args.out, name))
            with torch.no_grad():
                logits = model(preprocess_path(os.path.join(args.out, name)).unsqueeze(0))
                probs = torch.softmax(logits, dim=1)[0].tolist()
            expected[name] = {'probs': [round(p, 7) for p in probs], 'logits': [round(v, 6) for v in logits[0].tolist()],
                              'width': w, 'height': h, 'colour_type': ct, 'label': row['label'],
                              'resized': (h, w) != INPUT_SIZE}
    with open(os.path.join(args.out, 'expected.json'), 'w') as f:
        json.dump(dict(sorted(expected.items())), f, indent=1)
        f.write('\n')
    digest = hashlib.sha256(open(args.model, 'rb').read()).hexdigest() if os.path.exists(args.model) else None
    with open(os.path.join(args.out, 'provenance.json'), 'w') as f:
        json.dump({'generator': f'npm run synth -- --out DIR --count 50 --seed {args.seed}',
                   'probabilities': 'PyTorch, training/leakwatch_preprocess.py, index 0 = Normal, 1 = Leak',
                   'model': os.path.relpath(args.model, ROOT) if os.path.isabs(args.model) else args.model,
                   'model_sha256': digest}, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(args.out, n)) for n in expected)
    print(f'wrote {len(expected)} fixtures ({total / 1e6:.2f} MB) and expected.json to {args.out}')


if __name__ == '__main__':
    main()
