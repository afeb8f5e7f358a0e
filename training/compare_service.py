"""Compares the service's predictions with evaluate.py's PyTorch probabilities.

Usage:
  npm run leakwatch -- predict training/data/eval_s3/*/*.png > training/runs/service_predictions.jsonl
  /usr/bin/python3 training/compare_service.py training/runs/service_predictions.jsonl \\
      training/runs/heldout_probs.csv --root training/data/eval_s3
"""
import argparse
import csv
import json
import os


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('service_jsonl', help='output of leakwatch predict (one JSON object per line)')
    p.add_argument('pytorch_csv', help='per-image probabilities from evaluate.py')
    p.add_argument('--root', required=True, help='the ImageFolder root both were run on')
    a = p.parse_args()
    torch_rows = {}
    with open(a.pytorch_csv) as f:
        for row in csv.DictReader(f):
            torch_rows[os.path.normpath(row['path'])] = row
    n = correct_service = correct_torch = 0
    max_diff, diffs, errors = 0.0, [], 0
    with open(a.service_jsonl) as f:
        for line in f:
            if not line.strip():
                continue
            s = json.loads(line)
            if 'error' in s:
                errors += 1
                continue
            key = os.path.normpath(os.path.relpath(s['file'], a.root))
            t = torch_rows.get(key)
            if t is None:
                continue
            n += 1
            truth = t['label']
            correct_service += (s['p_leak'] >= 0.5) == (truth == 'Leak')
            correct_torch += (float(t['p_leak']) >= 0.5) == (truth == 'Leak')
            d = abs(s['p_leak'] - float(t['p_leak']))
            diffs.append(d)
            max_diff = max(max_diff, d)
    diffs.sort()
    print(f'images compared {n} (service errors {errors})')
    print(f'service accuracy {correct_service / n:.4f}  PyTorch accuracy {correct_torch / n:.4f}  '
          f'difference {100 * (correct_service - correct_torch) / n:+.2f} points')
    print(f'|p_leak difference|: median {diffs[len(diffs) // 2]:.2e}  max {max_diff:.2e}')


if __name__ == '__main__':
    main()
