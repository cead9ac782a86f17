#!/usr/bin/env python3
"""PyTorch twin of burn-lr's throughput bench and of configs/quick-cpu.toml.

Needs PyTorch only (`python3 -m venv V && V/bin/pip install torch`; Pillow for `train`).

  bench  One full training step (forward, cross-entropy, backward, optimizer, OneCycleLR.step())
         of the same CIFAR ResNets as app/src/model.rs (3x3 stem, no max-pool, 1x1 conv + BN
         projection shortcuts, Kaiming-normal fan-out init) at batch 128 on random images
         [batch, 3, 32, 32]; SGD (momentum 0.9, Nesterov, weight decay 5e-4) with OneCycleLR
         (max_lr 0.2, pct_start 0.25, cycled momentum); the loss read back with .item() as
         burn-lr's loss metric does. Median of >= 10 steps after 3 warm-up steps; peak memory is
         the process's peak resident set (each model runs in its own process).
         Prints the CSV of `cargo bench --bench train_step` (backend `torch-cpu`), except that
         memory is the process's peak resident set (`peak_rss_mib`: the heap plus PyTorch's
         libraries), not heap bytes.
  train  quick-cpu's recipe (`train [MODEL]`, default resnet8): ResNet-8, a class-balanced subset of 40,000 training images (same
         size and balance as burn-lr's `train_limit`; not the same images: burn-lr draws them
         with its own ChaCha8 shuffle), pad-4 random crop + horizontal flip, CIFAR mean/std,
         batch 128, OneCycle as above, 3 epochs, evaluation on the 10,000 test images after
         every epoch. Prints wall time (including loading) and the final test accuracy.

Threads: --threads (default: all cores), set with torch.set_num_threads.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
MEAN = [0.4914, 0.4822, 0.4465]
STD = [0.2470, 0.2435, 0.2616]


def conv(c_in, c_out, k, stride):
    layer = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
    nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
    return layer


class Block(nn.Module):
    def __init__(self, c_in, width, stride, bottleneck):
        super().__init__()
        c_out = width * 4 if bottleneck else width
        if bottleneck:
            self.conv1, self.bn1 = conv(c_in, width, 1, 1), nn.BatchNorm2d(width)
            self.conv2, self.bn2 = conv(width, width, 3, stride), nn.BatchNorm2d(width)
            self.conv3, self.bn3 = conv(width, c_out, 1, 1), nn.BatchNorm2d(c_out)
        else:
            self.conv1, self.bn1 = conv(c_in, c_out, 3, stride), nn.BatchNorm2d(c_out)
            self.conv2, self.bn2 = conv(c_out, c_out, 3, 1), nn.BatchNorm2d(c_out)
            self.conv3 = self.bn3 = None
        self.shortcut = None
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(conv(c_in, c_out, 1, stride), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            y = self.bn3(self.conv3(F.relu(y)))
        return F.relu(y + identity)


class ResNet(nn.Module):
    """The CIFAR ResNets of app/src/model.rs: resnet8/20/32/56 (16-32-64 channels, n blocks
    per stage), resnet18 (basic [2,2,2,2]) and resnet50 (bottleneck [3,4,6,3])."""

    def __init__(self, arch, num_classes=10):
        super().__init__()
        six_n = {"resnet8": 1, "resnet20": 3, "resnet32": 5, "resnet56": 9}
        if arch in six_n:
            stages, stem, bottleneck = [(c, six_n[arch]) for c in (16, 32, 64)], 16, False
        elif arch == "resnet18":
            stages, stem, bottleneck = [(64, 2), (128, 2), (256, 2), (512, 2)], 64, False
        elif arch == "resnet50":
            stages, stem, bottleneck = [(64, 3), (128, 4), (256, 6), (512, 3)], 64, True
        else:
            raise SystemExit(f"unknown model {arch!r}")
        self.stem, self.stem_bn = conv(3, stem, 3, 1), nn.BatchNorm2d(stem)
        blocks, c_in = [], stem
        for stage, (width, n) in enumerate(stages):
            for i in range(n):
                blocks.append(Block(c_in, width, 2 if stage > 0 and i == 0 else 1, bottleneck))
                c_in = width * 4 if bottleneck else width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem_bn(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def optimizer_and_schedule(model, total_steps):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.2, pct_start=0.25, total_steps=total_steps)
    return opt, sched


def train_step(model, opt, sched, images, targets):
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(images), targets)
    loss.backward()
    opt.step()
    sched.step()
    return loss.item()


def bench_one(arch, batch, steps, channels_last):
    """Times one model in this process; prints one JSON line."""
    torch.manual_seed(42)
    model = ResNet(arch).train()
    images = torch.randn(batch, 3, 32, 32)
    targets = torch.arange(batch) % 10
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    # burn-lr's bench: 10 epochs of 1,000 updates (the schedule is evaluated, not exhausted).
    opt, sched = optimizer_and_schedule(model, 10_000)
    for _ in range(3):
        train_step(model, opt, sched, images, targets)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        train_step(model, opt, sched, images, targets)
        times.append(time.perf_counter() - t)
    median_ms = statistics.median(times) * 1e3
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model": arch, "batch": batch, "median_ms": median_ms, "peak_mib": peak_mib}))


def bench(args):
    backend = "torch-cpu-cl" if args.channels_last else "torch-cpu"
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads", file=sys.stderr)
    print("backend,model,batch,median_ms,images_per_s,peak_rss_mib")
    for arch in args.models.split(","):
        cmd = [sys.executable, __file__, "bench-one", arch, "--batch", str(args.batch),
               "--steps", str(args.steps), "--threads", str(args.threads)]
        if args.channels_last:
            cmd.append("--channels-last")
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"bench {arch} failed:\n{done.stderr[-2000:]}")
        r = json.loads(done.stdout.strip().splitlines()[-1])
        ips = r["batch"] / (r["median_ms"] / 1e3)
        print(f"{backend},{arch},{r['batch']},{r['median_ms']:.3f},{ips:.2f},{r['peak_mib']:.1f}", flush=True)


def load_split(root):
    """uint8 images [n, 3, 32, 32] and labels [n] from root/<class>/*.jpg|png, in name order."""
    from PIL import Image
    import numpy as np

    images, labels = [], []
    for label, cls in enumerate(CLASSES):
        folder = os.path.join(root, cls)
        for name in sorted(os.listdir(folder)):
            if name.lower().endswith((".jpg", ".jpeg", ".png")):
                with Image.open(os.path.join(folder, name)) as im:
                    images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
                labels.append(label)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()
    return x, torch.tensor(labels)


def balanced_subset(x, y, n, seed):
    g = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(y == c).flatten() for c in range(len(CLASSES))]
    per_class = [idx[torch.randperm(len(idx), generator=g)] for idx in per_class]
    keep = []
    for i in range(max(len(p) for p in per_class)):
        keep.extend(int(p[i]) for p in per_class if i < len(p))
    keep = torch.tensor(keep[:n])
    return x[keep], y[keep]


def normalize(x):
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean) / std


def augment(x, g):
    """Pad 4 with zeros (before normalizing, as burn-lr), random 32x32 crop, random flip."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dy = torch.randint(0, 9, (n,), generator=g)
    dx = torch.randint(0, 9, (n,), generator=g)
    flip = torch.rand(n, generator=g) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        img = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = img.flip(2) if flip[i] else img
    return out


def evaluate(model, x, y, batch):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(normalize(x[i:i + batch])).argmax(1) == y[i:i + batch]).sum().item()
    model.train()
    return correct / len(x)


def train(args):
    start = time.perf_counter()
    torch.manual_seed(args.seed)
    x_train, y_train = load_split(os.path.join(args.data_dir, "train"))
    x_test, y_test = load_split(os.path.join(args.data_dir, "test"))
    x_train, y_train = balanced_subset(x_train, y_train, args.train_limit, args.seed)
    loaded = time.perf_counter() - start
    model = ResNet(args.model).train()
    steps_per_epoch = (len(x_train) + args.batch - 1) // args.batch
    opt, sched = optimizer_and_schedule(model, steps_per_epoch * args.epochs)
    g = torch.Generator().manual_seed(args.seed)
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(x_train), generator=g)
        losses = []
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            images = normalize(augment(x_train[idx], g))
            losses.append(train_step(model, opt, sched, images, y_train[idx]))
        acc = evaluate(model, x_test, y_test, args.batch)
        print(f"epoch {epoch}: train loss {statistics.mean(losses):.4f}, test accuracy {acc * 100:.2f}%, "
              f"{time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": round(wall, 1), "load_s": round(loaded, 1), "accuracy": round(acc * 100, 2),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["bench", "bench-one", "train"])
    p.add_argument("model", nargs="?", help="bench-one: the model; train: the model (default resnet8)")
    p.add_argument("--models", default="resnet8,resnet20,resnet18")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=10, help="timed steps after 3 warm-up steps (>= 10)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--data-dir", default="../shared/data/cifar10")
    p.add_argument("--train-limit", type=int, default=40000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=42)
    args = p.parse_args()
    if args.steps < 10:
        p.error("--steps: at least 10")
    torch.set_num_threads(args.threads)
    if args.mode == "bench":
        bench(args)
    elif args.mode == "bench-one":
        bench_one(args.model, args.batch, args.steps, args.channels_last)
    else:
        args.model = args.model or "resnet8"
        train(args)


if __name__ == "__main__":
    main()
