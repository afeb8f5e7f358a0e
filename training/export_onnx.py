"""ONNX export with the metadata the service reads (labels, mean, std, input size)."""
import argparse
import json

import onnx
import torch

from dataset import LABELS
from leakwatch_preprocess import INPUT_SIZE, MEAN, STD
from model import load_checkpoint


def export(model, path, training_data, description):
    """Exports raw logits [N, 2] for input [N, 3, 224, 224] and attaches metadata_props."""
    model.eval()
    dummy = torch.zeros(1, 3, *INPUT_SIZE)
    torch.onnx.export(model, dummy, path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=17)
    m = onnx.load(path)
    meta = {
        'labels': json.dumps(LABELS, separators=(',', ':')),
        'mean': json.dumps(list(MEAN), separators=(',', ':')),
        'std': json.dumps(list(STD), separators=(',', ':')),
        'input_size': json.dumps(list(INPUT_SIZE), separators=(',', ':')),
        'training_data': json.dumps(training_data),
        'description': json.dumps(description),
    }
    del m.metadata_props[:]
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    p = argparse.ArgumentParser(description='Export a train.py checkpoint to ONNX.')
    p.add_argument('checkpoint')
    p.add_argument('--out', default='models/resnet18_binary_finetuned.onnx')
    p.add_argument('--training-data', default='Leakwatch synthetic thermal frames (src/synth)')
    p.add_argument('--description', default='ResNet-18, 2 classes (Normal, Leak)')
    a = p.parse_args()
    model, _ = load_checkpoint(a.checkpoint)
    export(model, a.out, a.training_data, a.description)


if __name__ == '__main__':
    main()
