"""Write the tiny ONNX models under test/fixtures/models/ and their expected outputs.

The models are conv -> ReLU -> global average pool -> linear nets of a few hundred weights whose
leak logit grows with mean redness (the red minus the green channel, after normalization), so
tests see different probabilities for different images. They let the service's tests check
that input shape, layout, metadata and output conventions are read from the model.

Run with the Python that has torch 1.13 and onnx 1.12 (from the repository root):
    /usr/bin/python3 training/make_test_models.py
"""

import io
import json
import pathlib

import numpy as np
import onnx
import torch
from torch import nn

OUT_DIR = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "models"
OPSET = 13
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
LABELS = ["Normal", "Leak"]


class TinyNet(nn.Module):
    def __init__(self, outputs: int, head: str, nhwc: bool, seed: int = 0):
        super().__init__()
        self.head = head
        self.nhwc = nhwc
        self.conv = nn.Conv2d(3, 4, kernel_size=3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(4, outputs)
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            # Channels 0-2 pass R, G and B through (shifted clear of the ReLU), channel 3 is noise.
            self.conv.weight.copy_(0.05 * torch.randn(self.conv.weight.shape, generator=g))
            for c in range(3):
                self.conv.weight[c, c, 1, 1] += 1.0
            self.conv.bias.copy_(torch.tensor([3.0, 3.0, 3.0, 0.5]))
            # Leak logit minus normal logit ~ mean(R) - mean(G).
            rows = {1: [[1.0, -1.0, 0.0, 0.0]], 2: [[-0.5, 0.5, 0.0, 0.0], [0.5, -0.5, 0.0, 0.0]]}.get(
                outputs, [[-0.5, 0.5, 0.0, 0.0], [0.5, -0.5, 0.0, 0.0], [0.0, 0.0, 0.5, 0.0]]
            )
            self.fc.weight.copy_(torch.tensor(rows) + 0.05 * torch.randn(self.fc.weight.shape, generator=g))
            self.fc.bias.copy_(0.1 * torch.randn(self.fc.bias.shape, generator=g))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.nhwc:
            x = x.permute(0, 3, 1, 2)
        x = torch.relu(self.conv(x))
        x = self.fc(torch.flatten(self.pool(x), 1))
        if self.head == "softmax":
            x = torch.softmax(x, dim=1)
        elif self.head == "sigmoid":
            x = torch.sigmoid(x)
        return x


# name -> (outputs, head, nhwc, (height, width), dynamic batch, metadata, description)
MODELS = {
    "tiny-logits2": (2, "logits", False, (32, 32), True, True, "NCHW 3x32x32 -> [N,2] raw logits"),
    "tiny-softmax2": (2, "softmax", False, (32, 32), True, True, "NCHW 3x32x32 -> [N,2] softmax probabilities"),
    "tiny-sigmoid1": (1, "sigmoid", False, (32, 32), True, True, "NCHW 3x32x32 -> [N,1] sigmoid P(Leak)"),
    "tiny-logit1": (1, "logits", False, (32, 32), True, True, "NCHW 3x32x32 -> [N,1] raw leak logit"),
    "tiny-nhwc": (2, "logits", True, (32, 32), True, True, "NHWC 32x32x3 -> [N,2] raw logits"),
    "tiny-nometa": (2, "logits", False, (64, 48), True, False, "NCHW 3x64x48 -> [N,2] raw logits"),
    "tiny-fixed-batch": (2, "logits", False, (32, 32), False, True, "NCHW 1x3x32x32 -> [1,2] raw logits"),
    "tiny-bad-output": (3, "logits", False, (32, 32), True, True, "NCHW 3x32x32 -> [N,3], must be rejected"),
}


def output_name(head: str) -> str:
    return "logits" if head == "logits" else "probabilities"


def export(name: str, net: TinyNet, size: tuple, dynamic: bool, meta: bool, description: str) -> None:
    h, w = size
    dummy = torch.zeros((1, h, w, 3) if net.nhwc else (1, 3, h, w))
    out = output_name(net.head)
    buf = io.BytesIO()
    torch.onnx.export(
        net,
        dummy,
        buf,
        input_names=["input"],
        output_names=[out],
        dynamic_axes={"input": {0: "batch"}, out: {0: "batch"}} if dynamic else None,
        opset_version=OPSET,
        do_constant_folding=True,
    )
    model = onnx.load_from_string(buf.getvalue())
    if meta:
        onnx.helper.set_model_props(
            model,
            {
                "labels": json.dumps(LABELS),
                "mean": json.dumps(MEAN),
                "std": json.dumps(STD),
                "input_size": json.dumps([h, w]),
                "description": json.dumps(f"Leakwatch test model {name}: {description}"),
            },
        )
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(OUT_DIR / f"{name}.onnx"))


# Already-normalized inputs, defined per (channel, y, x) of the logical image; an NHWC model gets
# the same values at [y][x][c]. name -> (description, value function, per-channel constants or None)
RED = [float(np.float32((np.float32(v / 255) - np.float32(m)) / np.float32(s))) for v, m, s in zip((255, 0, 0), MEAN, STD)]
INPUTS = {
    "zeros": ("every value 0 (the mean colour)", lambda c, y, x: 0.0, [0.0, 0.0, 0.0]),
    "red": ("pure red (255, 0, 0) normalized with mean/std", lambda c, y, x: RED[c], RED),
    "pattern": (
        "v[c][y][x] = ((x + 2*y + 3*c) % 7 - 3) / 3 + 1 - c, rounded to float32",
        lambda c, y, x: ((x + 2 * y + 3 * c) % 7 - 3) / 3 + 1 - c,
        None,
    ),
}


def logical_input(fn, h: int, w: int) -> np.ndarray:
    c, y, x = np.meshgrid(np.arange(3), np.arange(h), np.arange(w), indexing="ij")
    return np.vectorize(fn)(c, y, x).astype(np.float32)


def expected(nets: dict) -> dict:
    models = {}
    for name, (net, size) in nets.items():
        if name == "tiny-bad-output":
            continue
        h, w = size
        results = {}
        for key, (_, fn, _) in INPUTS.items():
            chw = logical_input(fn, h, w)
            x = torch.from_numpy(chw.transpose(1, 2, 0) if net.nhwc else chw)[None]
            with torch.no_grad():
                y = net(x)[0].double()
            if net.head == "logits":
                p = torch.softmax(y, 0) if len(y) == 2 else torch.sigmoid(y)
            else:
                p = y
            leak = float(p[1] if len(p) == 2 else p[0])
            results[key] = {"output": [float(v) for v in y], "leakProbability": leak}
        models[f"{name}.onnx"] = {
            "input": {"layout": "NHWC" if net.nhwc else "NCHW", "height": h, "width": w},
            "outputName": output_name(net.head),
            "results": results,
        }
    a = models["tiny-logits2.onnx"]["results"]
    b = models["tiny-nhwc.onnx"]["results"]
    for key in a:
        assert np.allclose(a[key]["output"], b[key]["output"], atol=1e-6), key
    return {
        "description": "Outputs of the test models (computed with torch) for already-normalized inputs.",
        "generator": "training/make_test_models.py",
        "tolerance": 1e-5,
        "inputNote": "Values are given per logical (c, y, x); NHWC models take them at [n][y][x][c]. "
        "Every sample of a batch is the same image. leakProbability is softmax(output)[1] for [N,2] logits, "
        "sigmoid(output) for a [N,1] logit, and the Leak entry of models that output probabilities.",
        "inputs": {
            key: {"description": desc, **({"channelConstants": k} if k else {})}
            for key, (desc, _, k) in INPUTS.items()
        },
        "models": models,
    }


def main() -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    nets = {}
    for name, (outputs, head, nhwc, size, dynamic, meta, description) in MODELS.items():
        net = TinyNet(outputs, head, nhwc).eval()
        export(name, net, size, dynamic, meta, description)
        nets[name] = (net, size)
    (OUT_DIR / "expected.json").write_text(json.dumps(expected(nets), indent=2) + "\n")


if __name__ == "__main__":
    main()
