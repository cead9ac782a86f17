"""Reference traces for settings the shipped ones do not cover (tests/golden/averaging/extra_*.json).

PyTorch's AveragedModel / update_bn and schedulefree 1.4.1 (foreach=False), float64, in the
format of tests/golden/averaging/README.md (the traces copied from ../shared/golden/averaging/).

    python3 -m venv V && V/bin/pip install torch schedulefree==1.4.1
    V/bin/python scripts/averaging_reference.py tests/golden/averaging
"""
import json
import sys

import schedulefree
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn

torch.set_default_dtype(torch.float64)


def state(module):
    return {k: {"shape": list(v.shape), "values": v.flatten().tolist()}
            for k, v in module.state_dict().items() if v.is_floating_point()}


def batches(gen, n):
    xs = [torch.randn(8, 4, generator=gen) for _ in range(n)]
    ys = [torch.randint(0, 3, (8,), generator=gen) for _ in range(n)]
    return xs, ys


class BnNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.bn, self.fc2 = nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=0.1, eps=1e-5), nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.relu(self.bn(self.fc1(x))))


def averaging(seed, kind, decay, use_buffers, start_update, updates=10):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = BnNet()
    with torch.no_grad():  # running statistics away from 0 / 1, so copying them shows
        model.bn.running_mean.copy_(torch.randn(6, generator=gen))
        model.bn.running_var.copy_(torch.rand(6, generator=gen) + 0.5)
    init = state(model)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fn = get_ema_multi_avg_fn(decay) if kind == "ema" else None
    avg = AveragedModel(model, multi_avg_fn=fn, use_buffers=use_buffers)
    xs, ys = batches(gen, updates)
    trace = []
    for t in range(updates):
        model.train()
        loss = nn.functional.cross_entropy(model(xs[t]), ys[t])
        opt.zero_grad()
        loss.backward()
        opt.step()
        averaged = t + 1 >= start_update
        if averaged:
            avg.update_parameters(model)
        trace.append({"update": t + 1, "loss": loss.item(), "averaged": averaged,
                      "n_averaged": int(avg.n_averaged), "model": state(model),
                      "average": state(avg.module)})
    test_x = torch.randn(5, 4, generator=gen)
    avg.eval()
    before = avg(test_x).flatten().tolist()
    bn_batches = [torch.randn(8, 4, generator=gen) for _ in range(3)]
    update_bn(bn_batches, avg)
    avg.eval()
    after = avg(test_x).flatten().tolist()
    return {"reference": f"torch.optim.swa_utils.AveragedModel ({kind}), update_bn; PyTorch {torch.__version__}; float64",
            "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
            "averaging": {"kind": kind, "decay": decay, "use_buffers": use_buffers, "start_update": start_update},
            "init": init, "batches": {"x": [x.tolist() for x in xs], "y": [y.tolist() for y in ys]},
            "trace": trace,
            "update_bn": {"batches": [b.tolist() for b in bn_batches], "average_after": state(avg.module)},
            "test": {"x": test_x.tolist(), "average_eval_before_update_bn": before,
                     "average_eval_after_update_bn": after}}


def schedule_free(seed, name, lr, updates=10, **kwargs):
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = nn.Sequential()
    model.fc1, model.act, model.fc2 = nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3)
    init = state(model)
    cls = schedulefree.SGDScheduleFree if name == "sgd_schedule_free" else schedulefree.AdamWScheduleFree
    opt = cls(model.parameters(), lr=lr, foreach=False, **kwargs)
    opt.train()
    xs, ys = batches(gen, updates)
    trace = []
    for t in range(updates):
        loss = nn.functional.cross_entropy(model(xs[t]), ys[t])
        opt.zero_grad()
        loss.backward()
        opt.step()
        train = state(model)
        opt.eval()
        trace.append({"update": t + 1, "loss": loss.item(),
                      "scheduled_lr": opt.param_groups[0]["scheduled_lr"], "train": train, "eval": state(model)})
        opt.train()
    return {"reference": f"schedulefree 1.4.1 ({cls.__name__}, foreach=False), PyTorch {torch.__version__}; float64",
            "optimizer": {"name": name, "lr": lr, **{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}},
            "init": init, "batches": {"x": [x.tolist() for x in xs], "y": [y.tolist() for y in ys]}, "trace": trace}


CASES = {
    "extra_ema_no_buffers_late.json": lambda: averaging(11, "ema", 0.8, False, 4),
    "extra_swa_buffers.json": lambda: averaging(12, "swa", None, True, 2),
    "extra_sf_sgd_decay_r.json": lambda: schedule_free(
        13, "sgd_schedule_free", 0.5, momentum=0.8, weight_decay=0.01, warmup_steps=3, r=1.0, weight_lr_power=1.0),
    "extra_sf_adamw_decay_r.json": lambda: schedule_free(
        14, "adamw_schedule_free", 0.01, betas=(0.95, 0.99), eps=1e-6, weight_decay=0.1, r=0.5, weight_lr_power=0.0),
}

if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/golden/averaging"
    for file, make in CASES.items():
        with open(f"{out}/{file}", "w") as f:
            json.dump(make(), f)
        print(f"{out}/{file}")
