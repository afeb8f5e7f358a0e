"""Fine-tunes torchvision's ResNet-18 (2 classes) on ImageFolder data and exports ONNX.

Random initialisation by default; pass --pretrained with a local ImageNet .pth to start from it.
"""
import argparse
import json
import math
import os
import random
import time

import torch
import torch.nn.functional as F

from dataset import LABELS, box_targets, list_image_folder, load_cache, read_boxes
from export_onnx import export
from leakwatch_preprocess import normalize_uint8
from model import POOLS, build_model


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('--data', nargs='+', required=True, help='ImageFolder roots (leak/, normal/)')
    p.add_argument('--val', nargs='*', default=[], help='held-out ImageFolder roots; default: --val-fraction of --data')
    p.add_argument('--val-fraction', type=float, default=0.1)
    p.add_argument('--limit', type=int, default=0, help='use at most this many training images')
    p.add_argument('--epochs', type=int, default=6)
    p.add_argument('--res-schedule', default='',
                   help='progressive resizing, e.g. "c112:2,160:2,224:1" (side:epochs, overrides --epochs; cN = '
                        'N x N leak-centred patches); cheaper early phases, the last one should be 224')
    p.add_argument('--optimizer', choices=['adamw', 'sgd'], default='adamw')
    p.add_argument('--time-budget', type=float, default=0,
                   help='minutes: schedule learning rate and --res-schedule by elapsed time instead of epochs '
                        '(res-schedule numbers are then relative durations), for a shared, unpredictable CPU')
    p.add_argument('--aux-weight', type=float, default=1.0,
                   help='weight of the auxiliary leak-localisation loss (needs the generator\'s labels.csv boxes; '
                        'the heads are dropped at export)')
    p.add_argument('--leak-free-patches', type=float, default=0.0,
                   help='in cN phases, the probability that a leak image gives a patch clear of its leak, '
                        'labelled Normal (needs the boxes of labels.csv)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--lr', type=float, default=1e-3, help='peak learning rate of the one-cycle schedule')
    p.add_argument('--weight-decay', type=float, default=0.05)
    p.add_argument('--pool', choices=POOLS, default='avg',
                   help='global pooling before the classifier: torchvision\'s average, or max (see model.py)')
    p.add_argument('--pretrained', help='local torchvision ResNet-18 ImageNet state dict (.pth)')
    p.add_argument('--init', help='continue from a train.py checkpoint (weights only; the schedule starts afresh)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=os.cpu_count())
    p.add_argument('--checkpoint', default='training/runs/resnet18_binary.pt')
    p.add_argument('--out', default='models/resnet18_binary_finetuned.onnx')
    p.add_argument('--training-data', default='Leakwatch synthetic thermal frames (src/synth)',
                   help='description stored in the ONNX metadata')
    return p.parse_args()


CELL = 224 // 14  # pixels per cell of the localisation target grid


def leak_free_origin(t, cells, n_pos):
    """A random patch origin whose patch, grown by one cell each way, misses every leak cell of
    t; None when the leak leaves no such patch."""
    leak = F.max_pool2d((t > 0).float()[None, None], 3, stride=1, padding=1)[0, 0] > 0
    # Leak cells in each candidate patch, from a 2-D prefix sum.
    s = F.pad(leak.float().cumsum(0).cumsum(1), (1, 0, 1, 0))
    counts = s[cells:, cells:] - s[:-cells, cells:] - s[cells:, :-cells] + s[:-cells, :-cells]
    free = torch.nonzero(counts[:n_pos, :n_pos] == 0)
    if len(free) == 0:
        return None
    oy, ox = free[random.randrange(len(free))].tolist()
    return oy, ox


def leak_crops(x, target, side, labels, leak_free=0.0):
    """Crops side x side patches on the target's 16-pixel grid; for leak images, patches that
    contain the leak's centre. Patches make the leak a larger part of what the network sees,
    which is what lets a randomly initialised network find it quickly. With probability
    `leak_free`, a leak image gives a patch clear of the leak instead, labelled Normal: the
    same scene without its leak is the hardest negative there is. Returns patches, targets and
    the patches' labels."""
    cells = side // CELL
    n_pos = 224 // CELL - cells + 1
    xs_out = torch.empty(x.shape[0], 3, cells * CELL, cells * CELL, dtype=x.dtype)
    ts_out = torch.empty(x.shape[0], 1, cells, cells)
    labels = labels.clone()
    for i in range(x.shape[0]):
        t = target[i, 0]
        clear = None
        if leak_free > 0 and labels[i] == 1 and t.max() > 0 and random.random() < leak_free:
            clear = leak_free_origin(t, cells, n_pos)
        if clear is not None:
            oy, ox = clear
            labels[i] = 0
        elif labels[i] == 1 and t.max() > 0:
            ys_, xs_ = torch.nonzero(t > 0, as_tuple=True)
            # Cell of the box centre; the patch must contain it.
            my, mx = int(ys_.float().mean().round()), int(xs_.float().mean().round())
            oy = random.randint(max(0, my - cells + 1), min(n_pos - 1, my))
            ox = random.randint(max(0, mx - cells + 1), min(n_pos - 1, mx))
        else:
            oy, ox = random.randint(0, n_pos - 1), random.randint(0, n_pos - 1)
        xs_out[i] = x[i, :, oy * CELL:(oy + cells) * CELL, ox * CELL:(ox + cells) * CELL]
        ts_out[i, 0] = t[oy:oy + cells, ox:ox + cells]
    return xs_out, ts_out, labels


def augment(x_uint8, target, side, labels, leak_free=0.0):
    """Cheap batch augmentation on cached uint8 images: horizontal flips (of the localisation
    target too), gain and offset jitter. `side` is an int (downscale to side x side) or 'cN'
    (N x N patches, see leak_crops) for the cheap early phases. Returns images, targets, labels."""
    if isinstance(side, str):
        # Cropped before normalizing: a 112 px patch is a quarter of the pixels to convert.
        x, target, labels = leak_crops(x_uint8, target, int(side[1:]), labels, leak_free)
        x = normalize_uint8(x)
    else:
        x = normalize_uint8(x_uint8)
    if isinstance(side, int) and side != x.shape[-1]:
        x = F.interpolate(x, size=(side, side), mode='bilinear', antialias=True, align_corners=False)
    n = x.shape[0]
    flip = torch.rand(n) < 0.5
    x[flip] = x[flip].flip(-1)
    target = target.clone()
    target[flip] = target[flip].flip(-1)
    gain = torch.empty(n, 1, 1, 1).uniform_(0.8, 1.2)
    offset = torch.empty(n, 1, 1, 1).uniform_(-0.2, 0.2)
    return x * gain + offset, target, labels


class AuxHeads(torch.nn.Module):
    """1x1 convolutions on layer3 and layer4 that predict where the leak is. Training only:
    dense supervision gets a randomly initialised network past the plateau of a needle-in-a-
    haystack label far sooner than the image label alone."""

    def __init__(self):
        super().__init__()
        self.h3 = torch.nn.Conv2d(256, 1, 1)
        self.h4 = torch.nn.Conv2d(512, 1, 1)


def forward_with_aux(model, heads, x):
    x = model.maxpool(model.relu(model.bn1(model.conv1(x))))
    f3 = model.layer3(model.layer2(model.layer1(x)))
    f4 = model.layer4(f3)
    logits = model.fc(torch.flatten(model.avgpool(f4), 1))
    return logits, heads.h3(f3), heads.h4(f4)


def aux_loss(pred, target):
    t = F.adaptive_avg_pool2d(target, pred.shape[-2:])
    known = (t >= 0).float()
    loss = F.binary_cross_entropy_with_logits(pred, t.clamp(min=0), pos_weight=torch.tensor(5.0), reduction='none')
    return (loss * known).sum() / known.sum().clamp(min=1)


@torch.no_grad()
def evaluate(model, xs, ys, batch_size=64):
    model.eval()
    correct, loss_sum = 0, 0.0
    for i in range(0, len(xs), batch_size):
        logits = model(normalize_uint8(xs[i:i + batch_size]))
        y = ys[i:i + batch_size]
        loss_sum += F.cross_entropy(logits, y, reduction='sum').item()
        correct += (logits.argmax(1) == y).sum().item()
    return loss_sum / len(xs), correct / len(xs)


def main():
    args = parse_args()
    torch.set_num_threads(os.cpu_count())
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    items = [it for root in args.data for it in list_image_folder(root)]
    random.Random(args.seed).shuffle(items)
    if args.val:
        val_items = [it for root in args.val for it in list_image_folder(root)]
        train_items = items
    else:
        k = int(len(items) * args.val_fraction)
        val_items, train_items = items[:k], items[k:]
    if args.limit:
        train_items = train_items[:args.limit]
    t0 = time.time()
    boxes = {k: v for root in args.data for k, v in read_boxes(root).items()}
    targets = box_targets(train_items, boxes)
    use_aux = args.aux_weight > 0 and len(boxes) > 0
    xs, ys = load_cache(train_items, args.workers)
    vx, vy = load_cache(val_items, args.workers)
    print(f'cached {len(xs)} train / {len(vx)} held-out images in {time.time() - t0:.0f} s', flush=True)

    model = build_model(args.pool, args.pretrained).to(memory_format=torch.channels_last)
    heads = AuxHeads().to(memory_format=torch.channels_last)
    if args.init:
        state = torch.load(args.init, map_location='cpu')
        model.load_state_dict(state['model'])
        if 'aux_heads' in state:
            heads.load_state_dict(state['aux_heads'])
        print(f'initialised from {args.init}', flush=True)
    print(f'auxiliary localisation loss: {"on, weight " + str(args.aux_weight) if use_aux else "off"}', flush=True)
    params = list(model.parameters()) + (list(heads.parameters()) if use_aux else [])
    if args.res_schedule:
        phases = [(a if a.startswith('c') else int(a), float(b)) for a, b in (part.split(':') for part in args.res_schedule.split(','))]
    else:
        phases = [(224, float(args.epochs))]
    if args.optimizer == 'sgd':
        opt = torch.optim.SGD(params, lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay, foreach=True)
    else:
        # foreach: one multi-tensor update instead of a Python loop over the parameter tensors.
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay, foreach=True)
    per_epoch = len(xs) // args.batch_size
    total_units = sum(d for _, d in phases)
    began = time.time()

    def progress(step):
        """Fraction of the schedule done: by elapsed time with --time-budget, else by steps."""
        if args.time_budget:
            return (time.time() - began) / (args.time_budget * 60)
        return step / (total_units * per_epoch)

    def side_at(f):
        acc = 0.0
        for side, d in phases:
            acc += d / total_units
            if f < acc:
                return side
        return phases[-1][0]

    def lr_at(f):
        # One cycle: linear warm-up over 15%, then cosine down to 1/1000 of the peak.
        if f < 0.15:
            return args.lr * (0.04 + 0.96 * f / 0.15)
        return args.lr * (1e-3 + (1 - 1e-3) * 0.5 * (1 + math.cos(math.pi * min(1.0, (f - 0.15) / 0.85))))

    history, best, step, epoch, done = [], -1.0, 0, 0, False
    while not done:
        epoch += 1
        model.train()
        perm = torch.randperm(len(xs))
        t, seen, loss_sum, correct = time.time(), 0, 0.0, 0
        sides_used = set()
        for b in range(per_epoch):
            f = progress(step)
            if f >= 1:
                done = True
                break
            side = side_at(f)
            sides_used.add(side)
            for g in opt.param_groups:
                g['lr'] = lr_at(f)
            idx = perm[b * args.batch_size:(b + 1) * args.batch_size]
            x, target, y = augment(xs[idx], targets[idx], side, ys[idx], args.leak_free_patches)
            x = x.contiguous(memory_format=torch.channels_last)
            if use_aux:
                logits, a3, a4 = forward_with_aux(model, heads, x)
                ce = F.cross_entropy(logits, y)
                loss = ce + args.aux_weight * 0.5 * (aux_loss(a3, target) + aux_loss(a4, target))
            else:
                logits = model(x)
                ce = loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            seen += len(y)
            loss_sum += ce.item() * len(y)
            correct += (logits.argmax(1) == y).sum().item()
            if b % 25 == 0:
                print(f'  epoch {epoch} step {b} ({side} px, lr {lr_at(f):.2e}) loss {loss_sum / seen:.4f} '
                      f'{seen / (time.time() - t):.1f} img/s', flush=True)
        if progress(step) >= 1:
            done = True
        if seen == 0:
            break
        val_loss, val_acc = evaluate(model, vx, vy)
        row = {'epoch': epoch, 'sides': sorted(map(str, sides_used)), 'images': seen, 'train_loss': loss_sum / seen,
               'train_acc': correct / seen, 'val_loss': val_loss, 'val_acc': val_acc, 'seconds': time.time() - t}
        history.append(row)
        print(f'epoch {epoch} ({"/".join(map(str, row["sides"]))} px, {seen} images) train loss {row["train_loss"]:.4f} '
              f'acc {row["train_acc"]:.4f} held-out loss {val_loss:.4f} acc {val_acc:.4f} ({row["seconds"]:.0f} s)', flush=True)
        os.makedirs(os.path.dirname(args.checkpoint) or '.', exist_ok=True)
        torch.save({'model': model.state_dict(), 'aux_heads': heads.state_dict(), 'labels': LABELS, 'history': history, 'args': vars(args)}, args.checkpoint)
        # Export as we go: on a shared machine a run may be cut short, and the service needs a model.
        # Epochs below full resolution are not exported: the model must be adapted to 224 px.
        if 224 in sides_used and (val_acc >= best or done):
            best = max(best, val_acc)
            export_model(model, args, history, len(xs), len(vx))
            torch.save({'model': model.state_dict(), 'labels': LABELS, 'history': history, 'args': vars(args)},
                       os.path.splitext(args.checkpoint)[0] + '.exported.pt')
            print(f'  exported {args.out} (held-out acc {val_acc:.4f})', flush=True)
            model.train()
    total = time.time() - began
    print(f'trained in {total / 60:.1f} min', flush=True)
    with open(os.path.splitext(args.checkpoint)[0] + '.history.json', 'w') as f:
        json.dump({'history': history, 'train_minutes': total / 60, 'args': vars(args)}, f, indent=1)


def export_model(model, args, history, n_train, n_val):
    last = history[-1]
    pooling = ', global max pooling' if args.pool == 'max' else ''
    description = (f'ResNet-18{pooling}, 2 classes (Normal, Leak), trained from '
                   f'{"ImageNet weights" if args.pretrained else "random initialisation"} on {n_train} images '
                   f'for {last["epoch"]} epochs; held-out accuracy {last["val_acc"]:.4f} on {n_val} images')
    model.eval()
    export(model, args.out, args.training_data, description)


if __name__ == '__main__':
    main()
