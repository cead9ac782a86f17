#!/usr/bin/env python3
"""PyTorch traces of piecewise-linear schedules for tests/golden/ (burn-lr's `piecewise_linear`).

PyTorch has no piecewise-linear scheduler class; the schedule is written as
`LambdaLR(opt, lambda k: numpy.interp(k / steps_per_epoch, knots, values))`, stepped once per
optimizer update (David Page's DAWNBench ResNet-9 code does the same with its own interp).
Each file holds `lrs[k]` = `get_last_lr()[0]` after k `scheduler.step()` calls, the PyTorch
call that made it, and `toml`: the same schedule as burn-lr's `[scheduler]` table, with
`steps_per_epoch` the optimizer updates per epoch it is read with.

    python3 -m venv V && V/bin/pip install torch numpy
    V/bin/python scripts/golden_piecewise.py tests/golden
"""
import json
import sys
import warnings

import numpy
import torch


def optimizer(lr):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def interp(knots, values, spe):
    return lambda k: float(numpy.interp(k / spe, knots, values))


def trace(scheduler, opt, steps):
    lrs = [scheduler.get_last_lr()[0]]
    for _ in range(steps):
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
    assert opt.param_groups[0]["lr"] == lrs[-1]
    return lrs


def toml_list(xs):
    return "[" + ", ".join(repr(x) for x in xs) + "]"


def piecewise(name, knots, values, lr, spe, unit, steps):
    opt = optimizer(lr)
    s = torch.optim.lr_scheduler.LambdaLR(opt, interp(knots, values, spe))
    table = f'type = "piecewise_linear"\nknots = {toml_list(knots)}\nvalues = {toml_list(values)}\nunit = "{unit}"\n'
    call = f"LambdaLR(SGD(lr={lr}), lambda k: numpy.interp(k / {spe}, {knots}, {values}))"
    return name, call, table, lr, spe, trace(s, opt, steps)


def sequential(name, lr, spe, steps):
    """LinearLR warmup for 8 updates, then the piecewise factor read at local update / spe."""
    knots, values = [0, 2.5, 6], [1.0, 0.5, 0.0]
    opt = optimizer(lr)
    warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=8)
    lam = torch.optim.lr_scheduler.LambdaLR(opt, interp(knots, values, spe))
    s = torch.optim.lr_scheduler.SequentialLR(opt, [warm, lam], milestones=[8])
    table = (
        'type = "sequential"\nunit = "iteration"\nmilestones = [8]\n'
        '[[schedulers]]\ntype = "linear"\nstart_factor = 0.1\ntotal_iters = 8\n'
        f'[[schedulers]]\ntype = "piecewise_linear"\nunit = "epoch"\nknots = {toml_list(knots)}\n'
        f"values = {toml_list(values)}\n"
    )
    call = (
        f"SequentialLR(SGD(lr={lr}), [LinearLR(start_factor=0.1, total_iters=8), "
        f"LambdaLR(lambda k: numpy.interp(k / {spe}, {knots}, {values}))], milestones=[8])"
    )
    return name, call, table, lr, spe, trace(s, opt, steps)


CASES = [
    # Page's DAWNBench ResNet-9: 0 -> 0.4 -> 0 over epochs 0, 5, 24, 7 updates per epoch, past the end.
    piecewise("piecewise_page_epoch", [0, 5, 24], [0.0, 1.0, 0.0], 0.4, 7, "epoch", 24 * 7 + 10),
    # Fractional knots, a first knot after 0 and updates per epoch that do not divide them.
    piecewise("piecewise_fractional_epoch", [0.3, 1.25, 2.5, 4.75], [0.05, 1.0, 0.3, 0.01], 0.1, 3, "epoch", 20),
    # Knots in optimizer updates; a flat piece and a rise.
    piecewise("piecewise_iteration", [0, 10, 25, 30, 40], [0.0, 1.0, 1.0, 0.2, 0.6], 0.05, 1, "iteration", 50),
    sequential("piecewise_in_sequential", 0.2, 4, 40),
]


def main(out_dir):
    for name, call, table, lr, spe, lrs in CASES:
        doc = {
            "scheduler": "LambdaLR",
            "call": call,
            "optimizer": {"type": "SGD", "lr": lr},
            "steps_per_epoch": spe,
            "toml": table,
            "convention": "lrs[k] = get_last_lr()[0] after k scheduler.step() calls (one per optimizer update)",
            "versions": {"torch": torch.__version__, "numpy": numpy.__version__},
            "lrs": lrs,
        }
        with open(f"{out_dir}/{name}.json", "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        print(name, len(lrs))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
