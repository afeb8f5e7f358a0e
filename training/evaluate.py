"""Held-out evaluation of a train.py checkpoint with PyTorch, through leakwatch_preprocess.

Prints accuracy and the confusion matrix, writes per-image probabilities (CSV) and, with
--plots, the confidence histogram and reliability diagram as PNG.
"""
import argparse
import csv
import json
import os

import torch

from dataset import LABELS, list_image_folder, load_cache
from leakwatch_preprocess import normalize_uint8
from model import load_checkpoint


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('data', help='ImageFolder root (leak/, normal/), e.g. from an unused seed')
    p.add_argument('--checkpoint', default='training/runs/resnet18_binary.pt')
    p.add_argument('--probs-out', default='training/runs/heldout_probs.csv')
    p.add_argument('--summary-out', default='training/runs/heldout_summary.json')
    p.add_argument('--plots', default='', help='directory for confidence_histogram.png and reliability_diagram.png')
    p.add_argument('--workers', type=int, default=os.cpu_count())
    return p.parse_args()


@torch.no_grad()
def predict(model, xs, batch_size=64):
    out = []
    for i in range(0, len(xs), batch_size):
        out.append(torch.softmax(model(normalize_uint8(xs[i:i + batch_size])), dim=1))
    return torch.cat(out)


def reliability(p_leak, y, bins=10):
    """Per confidence bin of the predicted class: (lower edge, count, mean confidence, accuracy)."""
    conf = torch.maximum(p_leak, 1 - p_leak)
    pred = (p_leak >= 0.5).long()
    rows, ece = [], 0.0
    edges = torch.linspace(0.5, 1.0, bins + 1)
    for k in range(bins):
        hi = edges[k + 1] if k < bins - 1 else 1.0001
        sel = (conf >= edges[k]) & (conf < hi)
        n = int(sel.sum())
        if n:
            c, a = conf[sel].mean().item(), (pred[sel] == y[sel]).float().mean().item()
            ece += n / len(y) * abs(c - a)
            rows.append((edges[k].item(), n, c, a))
    return rows, ece


def plot(p_leak, y, rows, out_dir):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4))
    bins = [i / 40 for i in range(41)]
    ax.hist(p_leak[y == 0].numpy(), bins=bins, alpha=0.7, label='Normal images', color='tab:blue')
    ax.hist(p_leak[y == 1].numpy(), bins=bins, alpha=0.7, label='Leak images', color='tab:red')
    ax.set_yscale('log')
    ax.set_xlabel('P(Leak)')
    ax.set_ylabel('images (log scale)')
    ax.set_title(f'Confidence histogram, {len(y)} held-out synthetic images')
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, 'confidence_histogram.png'), dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0.5, 1], [0.5, 1], '--', color='gray', label='perfect calibration')
    ax.plot([r[2] for r in rows], [r[3] for r in rows], 'o-', color='tab:red', label='model')
    for r in rows:
        ax.annotate(str(r[1]), (r[2], r[3]), textcoords='offset points', xytext=(4, -12), fontsize=7)
    ax.set_xlabel('confidence of predicted class (bin mean)')
    ax.set_ylabel('accuracy in bin')
    ax.set_xlim(0.5, 1.0)
    ax.set_ylim(0.4, 1.02)
    ax.set_title('Reliability diagram (numbers: images per bin)')
    ax.legend(loc='upper left')
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, 'reliability_diagram.png'), dpi=100)
    plt.close(fig)


def main():
    args = parse_args()
    torch.set_num_threads(os.cpu_count())
    items = list_image_folder(args.data)
    xs, ys = load_cache(items, args.workers)
    model, _ = load_checkpoint(args.checkpoint)
    probs = predict(model, xs)
    p_leak = probs[:, 1]
    pred = (p_leak >= 0.5).long()
    acc = (pred == ys).float().mean().item()
    cm = [[int(((ys == t) & (pred == p)).sum()) for p in (0, 1)] for t in (0, 1)]
    rows, ece = reliability(p_leak, ys)
    print(f'images {len(ys)}  accuracy {acc:.4f}')
    print('confusion matrix (rows true, columns predicted):')
    print(f'               Normal  Leak\n  true Normal  {cm[0][0]:6d} {cm[0][1]:5d}\n  true Leak    {cm[1][0]:6d} {cm[1][1]:5d}')
    conf = torch.maximum(p_leak, 1 - p_leak)
    spread = {f'conf<{t}': int((conf < t).sum()) for t in (0.6, 0.8, 0.9, 0.99)}
    print(f'expected calibration error {ece:.4f}; predicted-class confidence counts {spread}')
    for lo, n, c, a in rows:
        print(f'  conf [{lo:.2f}, {lo + 0.05:.2f}): n={n:5d} mean conf {c:.3f} accuracy {a:.3f}')
    os.makedirs(os.path.dirname(args.probs_out) or '.', exist_ok=True)
    with open(args.probs_out, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['path', 'label', 'p_normal', 'p_leak', 'predicted'])
        for (path, y), p in zip(items, probs.tolist()):
            w.writerow([os.path.relpath(path, args.data), LABELS[y], f'{p[0]:.6f}', f'{p[1]:.6f}', LABELS[int(p[1] >= 0.5)]])
    with open(args.summary_out, 'w') as f:
        json.dump({'images': len(ys), 'accuracy': acc, 'confusion_matrix': {'rows_true_cols_pred': ['Normal', 'Leak'], 'matrix': cm},
                   'ece': ece, 'confidence_counts': spread, 'reliability': rows, 'data': args.data, 'checkpoint': args.checkpoint}, f, indent=1)
    if args.plots:
        plot(p_leak, ys, rows, args.plots)
    print(f'wrote {args.probs_out}')


if __name__ == '__main__':
    main()
