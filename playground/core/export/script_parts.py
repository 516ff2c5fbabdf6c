"""The pieces of an exported training script that depend on the run's
settings: the script's header, weight-name helpers and training loop as
templates, and the optimizer, loss, schedule, penalty, clipping and early
stopping code the settings call for (and nothing they do not).

Each piece reproduces what trainer.py does for the same setting, so the script
trains as the app does: the same optimizer arguments, the scheduler stepped
once per optimizer step, penalties on weights but not biases, the loss
without the penalty reported per epoch.
"""

from __future__ import annotations

HEADER = '''\
#!/usr/bin/env python3
"""Train @TITLE@ on "@DATASET@" with plain PyTorch.

Exported from Neural Playground @VERSION@: the network, the data, and the
optimizer, loss, schedule and hyperparameters of the run "@RUN@". Needs torch
and numpy (and safetensors to save .safetensors weights).

Train on one device (GPU if there is one), or on several with
DistributedDataParallel (one process per GPU; gloo on CPUs):

    python @FILE@
    python @FILE@ --epochs 5 --device cpu --out weights.safetensors
    torchrun --nproc_per_node=4 @FILE@

Weights saved with --out keep Neural Playground's names (see APP_NAMES), so
they load back into the app.
"""

import argparse
import json
import math
import os
@PATH_IMPORT@

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler

# -- the run's settings (--epochs, --batch-size, --lr, --seed change them) --------
@SETTINGS@
EVAL_CHUNK = 1024  # validation examples per forward pass
'''

NAMES = '''\
# Neural Playground names weights by layer position ("0.weight", "3.body.1.bias");
# this maps the names used here to those, so weights travel both ways.
APP_NAMES = @APP_NAMES@

# the network as a spec document: saved with the weights, so the app can rebuild it
NETWORK_SPEC = @SPEC@


def to_app_names(state):
    """Our state dict with the app's names."""
    out = {}
    for key, value in state.items():
        module, _, leaf = key.rpartition(".")
        out[f"{APP_NAMES[module]}.{leaf}"] = value
    return out


def from_app_names(state):
    """A state dict with the app's names, renamed for Net."""
    ours = {app: name for name, app in APP_NAMES.items()}
    out = {}
    for key, value in state.items():
        module, _, leaf = key.rpartition(".")
        out[f"{ours[module]}.{leaf}"] = value
    return out


def save_weights(model, path):
    """Save with the app's names: .safetensors (with the network spec in its
    metadata) or .pt (a plain state dict). Written beside the target, then
    moved over it, so an interrupted save never leaves half a file."""
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    state = to_app_names(state)
    tmp = f"{path}.tmp"
    if str(path).endswith(".pt"):
        torch.save(state, tmp)
    else:
        from safetensors.torch import save_file

        metadata = {"playground-network": json.dumps(NETWORK_SPEC)}
        save_file(state, tmp, metadata=metadata)
    os.replace(tmp, path)
'''

TRAINING = '''\
# -- training -------------------------------------------------------------------
def steps_per_epoch(n, batch_size):
    """A last batch of a single example joins the one before (BatchNorm cannot
    train on one example), as in the app."""
    steps = math.ceil(n / batch_size)
    return steps - 1 if steps > 1 and n % batch_size == 1 else steps


def batches(order, batch_size):
    """One epoch's index batches, in the shuffled order."""
    steps = steps_per_epoch(len(order), batch_size)
    for b in range(steps):
        end = len(order) if b == steps - 1 else (b + 1) * batch_size
        yield order[b * batch_size : end]


@torch.no_grad()
def evaluate(model, x, target, labels):
    """Mean loss@ACC_DOC@ over a split, in eval mode (dropout off, BatchNorm
    on its running statistics)."""
    model.eval()
    loss_sum, right = 0.0, 0
    for i in range(0, len(x), EVAL_CHUNK):
        out = model(x[i : i + EVAL_CHUNK])  # (chunk, outputs)
        loss_sum += float(loss_fn(out, target[i : i + EVAL_CHUNK])) * len(out)
@ACC_COUNT@
    model.train()
    return loss_sum / len(x), right / len(x)


def pick_device(name, local_rank):
    if name == "auto":
        mps = getattr(torch.backends, "mps", None)
        if torch.cuda.is_available():
            name = "cuda"
        elif mps is not None and mps.is_available():
            name = "mps"
        else:
            name = "cpu"
    # under torchrun each process drives the GPU of its local rank
    return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument(
        "--batch-size", type=int, default=BATCH_SIZE, help="examples per process"
    )
    p.add_argument("--lr", type=float, default=LEARNING_RATE, help="learning rate")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--seed", type=int, default=SEED)
    p.add_argument("--out", help="save the weights: FILE.safetensors or FILE.pt")
    return p.parse_args()


def main():
    args = parse_args()
    # torchrun sets these; `python train.py` is a world of one process
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    distributed = world_size > 1
    device = pick_device(args.device, local_rank)
    if distributed:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    main_process = rank == 0
    if main_process:
        where = f"{world_size} processes" if distributed else "one process"
        print(f"training on {device.type}, {where}", flush=True)

    # (n, *input_shape) inputs; (n,) labels or (n, targets) values
    x_train, y_train, x_val, y_val = (
        torch.as_tensor(a, device=device) for a in load_data()
    )
    t_train, t_val = make_targets(y_train), make_targets(y_val)

    # the same seed everywhere: the same starting weights as the app, and on
    # every process (DDP copies rank 0's weights at the start anyway)
    torch.manual_seed(args.seed)
    net = Net().to(device)
    model = net
    if distributed:
        ids = [device.index] if device.type == "cuda" else None
        model = DistributedDataParallel(net, device_ids=ids)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(params, args.lr)

    n = len(x_train)
    if distributed:
        # each process trains on its own share of every epoch's shuffle
        sampler = DistributedSampler(
            range(n), num_replicas=world_size, rank=rank, seed=args.seed
        )
    else:
        # the app's shuffle: one generator seeded once, a permutation per epoch
        shuffle = torch.Generator().manual_seed(args.seed)
@MAKE_SCHEDULER@
@EARLY_INIT@
    for epoch in range(1, args.epochs + 1):
        model.train()
        if distributed:
            sampler.set_epoch(epoch)
            order = torch.tensor(list(sampler))
        else:
            order = torch.randperm(n, generator=shuffle)
        order = order.to(device)
        # summed where the batches are: no device sync per step
        loss_sum = torch.zeros((), device=device)
        seen = torch.zeros((), device=device)
        for idx in batches(order, args.batch_size):
            out = model(x_train[idx])  # (batch, outputs)
            loss = loss_fn(out, t_train[idx])
            optimizer.zero_grad(set_to_none=True)
@BACKWARD@
            optimizer.step()
@SCHEDULER_STEP@
            loss_sum += loss.detach() * len(idx)
            seen += len(idx)
        if distributed:
            dist.all_reduce(loss_sum)
            dist.all_reduce(seen)
        train_loss = (loss_sum / seen).item()
        if not math.isfinite(train_loss):
            raise SystemExit(
                f"the loss became {train_loss} in epoch {epoch}: try a lower "
                "learning rate (--lr) or gradient clipping"
            )
        val_loss, val_accuracy = evaluate(net, x_val, t_val, y_val)
        if distributed:
            # rank 0's numbers: BatchNorm statistics may differ a little between
            # processes, and every process must take the same decisions
            val = torch.tensor(
                [val_loss, val_accuracy], dtype=torch.float64, device=device
            )
            dist.broadcast(val, src=0)
            val_loss, val_accuracy = val.tolist()
        if main_process:
            print(
                f"epoch {epoch}/{args.epochs}  train_loss {train_loss:.4f}  "
                f"val_loss {val_loss:.4f}@ACC_PRINT@",
                flush=True,
            )
@EARLY_STEP@
@EARLY_END@
    if main_process and args.out:
        save_weights(net, args.out)
        print(f"saved {args.out}", flush=True)
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
'''

OPTIMIZERS = {
    "sgd": "torch.optim.SGD(params, lr=lr, weight_decay=WEIGHT_DECAY)",
    "momentum": "torch.optim.SGD(\n        params, lr=lr, momentum=MOMENTUM, "
    "weight_decay=WEIGHT_DECAY\n    )",
    "nesterov": "torch.optim.SGD(\n        params, lr=lr, momentum=MOMENTUM, "
    "nesterov=True, weight_decay=WEIGHT_DECAY\n    )",
    "adagrad": "torch.optim.Adagrad(params, lr=lr, weight_decay=WEIGHT_DECAY)",
    "rmsprop": "torch.optim.RMSprop(params, lr=lr, weight_decay=WEIGHT_DECAY)",
    "adam": "torch.optim.Adam(params, lr=lr, weight_decay=WEIGHT_DECAY)",
    "adamw": "torch.optim.AdamW(params, lr=lr, weight_decay=WEIGHT_DECAY)",
}
LOSSES = {
    "cross_entropy": "F.cross_entropy(out, target)",
    "bce_with_logits": "F.binary_cross_entropy_with_logits(out, target)",
    "hinge": "F.multi_margin_loss(out, target)",
    "mse": "F.mse_loss(out, target)",
    "l1": "F.l1_loss(out, target)",
    "huber": "F.huber_loss(out, target)",
}
SCHEDULERS = {
    # stepped once per optimizer step, as the app does
    "step": "torch.optim.lr_scheduler.StepLR(\n        optimizer, "
    "step_size=STEP_SIZE * steps, gamma=GAMMA\n    )",
    "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(\n        optimizer, "
    "T_max=args.epochs * steps\n    )",
    "onecycle": "torch.optim.lr_scheduler.OneCycleLR(\n        optimizer, "
    "max_lr=args.lr, total_steps=args.epochs * steps\n    )",
}


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line else line for line in text.splitlines())


def settings_block(s, loss: str) -> str:
    lines = [
        f"EPOCHS = {s.epochs}",
        f"BATCH_SIZE = {s.batch_size}",
        f"LEARNING_RATE = {s.learning_rate!r}",
        f'OPTIMIZER = "{s.optimizer}"  # see make_optimizer',
    ]
    if s.optimizer in ("momentum", "nesterov"):
        lines.append(f"MOMENTUM = {s.momentum!r}")
    lines.append(f"WEIGHT_DECAY = {s.weight_decay!r}")
    lines.append(f'LOSS = "{loss}"  # see loss_fn')
    lines.append(f'SCHEDULE = "{s.schedule}"  # the learning rate over the run')
    if s.schedule == "step":
        lines += [f"STEP_SIZE = {s.step_size}  # epochs", f"GAMMA = {s.gamma!r}"]
    if s.l1:
        lines.append(f"L1 = {s.l1!r}  # penalty on weights, not biases")
    if s.l2:
        lines.append(f"L2 = {s.l2!r}  # penalty on weights, not biases")
    if s.grad_clip:
        lines.append(f"GRAD_CLIP = {s.grad_clip!r}  # largest gradient norm")
    if s.early_stopping:
        lines.append(f"PATIENCE = {s.patience}  # epochs without a better val loss")
    lines.append(f"SEED = {s.seed}")
    return "\n".join(lines)


def loss_block(loss: str, classification: bool) -> str:
    if not classification:
        targets = "    return y  # regression: the values themselves"
    elif loss == "bce_with_logits":
        targets = "    return y.float().unsqueeze(1)  # (n,) labels -> (n, 1) floats"
    elif loss in ("mse", "l1", "huber"):
        targets = (
            "    # (n,) labels -> (n, classes) one-hot rows\n"
            "    return F.one_hot(y, NUM_CLASSES).float()"
        )
    else:
        targets = "    return y  # class indices"
    text = (
        "# -- loss and optimizer " + "-" * 57 + "\n"
        "def make_targets(y):\n"
        '    """Stored labels as the loss compares against them."""\n'
        f"{targets}\n\n\n"
        "def loss_fn(out, target):\n"
        f"    return {LOSSES[loss]}\n"
    )
    if classification:
        text += (
            "\n\ndef predict(out):\n"
            '    """Predicted class per example: (batch,) indices."""\n'
            "    if out.shape[1] == 1:\n"
            "        # one logit: class 1 when it is positive\n"
            "        return (out[:, 0] > 0).long()\n"
            "    return out.argmax(1)\n"
        )
    return text


def optimizer_block(s) -> str:
    text = (
        "\n\n\ndef make_optimizer(params, lr):\n"
        f"    return {OPTIMIZERS[s.optimizer]}\n"
    )
    if s.l1 or s.l2:
        terms = []
        if s.l1:
            terms.append("    total = total + L1 * sum(p.abs().sum() for p in weights)")
        if s.l2:
            terms.append(
                "    total = total + L2 * sum(p.square().sum() for p in weights)"
            )
        text += (
            "\n\ndef with_penalty(loss, params):\n"
            '    """The loss plus the L1/L2 penalty on the weights (not biases)."""\n'
            "    weights = [p for p in params if p.dim() > 1]\n"
            "    total = loss\n" + "\n".join(terms) + "\n    return total\n"
        )
    return text


def backward(s) -> str:
    lines = []
    if s.l1 or s.l2:
        lines.append("with_penalty(loss, params).backward()")
    else:
        lines.append("loss.backward()")
    if s.grad_clip:
        lines.append("torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)")
    return _indent("\n".join(lines), 12)


def early_stopping(s) -> tuple[str, str, str]:
    if not s.early_stopping:
        return "", "", ""
    init = _indent(
        "# early stopping: keep the best epoch's weights, as the app does\n"
        "best_loss, best_state, bad_epochs = math.inf, None, 0",
        4,
    )
    step = _indent(
        "if val_loss < best_loss:\n"
        "    best_loss, bad_epochs = val_loss, 0\n"
        "    best_state = {k: v.clone() for k, v in net.state_dict().items()}\n"
        "else:\n"
        "    bad_epochs += 1\n"
        "    if bad_epochs >= PATIENCE:\n"
        "        if main_process:\n"
        '            print(f"early stopping after epoch {epoch}", flush=True)\n'
        "        break",
        8,
    )
    end = _indent("if best_state is not None:\n    net.load_state_dict(best_state)", 4)
    return init, step, end


def fill(template: str, values: dict) -> str:
    """Replace @NAME@ marks; a mark whose value is empty takes its line along."""
    lines = []
    for line in template.splitlines():
        stripped = line.strip()
        if stripped.startswith("@") and stripped.endswith("@") and stripped in values:
            if values[stripped]:
                lines.append(values[stripped])
            continue
        for key, value in values.items():
            line = line.replace(key, value)
        lines.append(line)
    return "\n".join(lines) + "\n"
