"""Train a network on a dataset; a generator of events that knows nothing of Qt.

Hot-loop rules (they keep the trainer within a few percent of a bare PyTorch
loop): the loss is read from the device only every `log_every` steps, the
per-step bookkeeping is a list append, and the stop/pause flags are plain
`threading.Event` reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import numpy as np

from playground.core.compat import check_training
from playground.core.control import RunControl
from playground.core.events import (
    EpochMetrics,
    Failed,
    Finished,
    GradientNorms,
    Paused,
    Resumed,
    RunStarted,
    RunSummary,
    Snapshot,
    StepLog,
    StepMetrics,
    Stopped,
)
from playground.core.lean_dense import LeanDense, lean_refusal
from playground.core.settings import TrainingSettings
from playground.core.shapes import BYTES_PER_VALUE, infer_shapes

NAN_ADVICE = (
    "try a lower learning rate (e.g. ten times smaller), gradient clipping, "
    "or a different optimizer"
)
EVAL_BATCH = 1024
# Copying every weight to numpy each log step cost ~3% on small networks; a
# fallback at most this old is as good for "keep the last good weights".
LAST_GOOD_EVERY_S = 1.0
EVAL_BYTES = 256 * 2**20  # layer outputs one evaluation chunk may hold at once
PROBE_EXAMPLES = 64


def batch_count(n: int, batch: int) -> int:
    """Steps per epoch. A last batch of a single example joins the one before:
    BatchNorm cannot train on one example, and for any other model one slightly
    larger batch is harmless, so every model gets the same rule."""
    steps = math.ceil(n / batch)
    return steps - 1 if steps > 1 and n % batch == 1 else steps


def eval_batch_size(activation_elements: int, train_batch: int) -> int:
    """Evaluation keeps no graph, yet a chunk's layer outputs still coexist; keep
    a chunk within what a training step already needs (or a small budget)."""
    per_example = BYTES_PER_VALUE * max(1, activation_elements)
    return max(1, min(EVAL_BATCH, max(2 * train_batch, EVAL_BYTES // per_example)))


def make_optimizer(name: str, params, s: TrainingSettings):
    import torch

    lr, wd = s.learning_rate, s.weight_decay
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=s.momentum, weight_decay=wd)
    if name == "nesterov":
        return torch.optim.SGD(
            params, lr=lr, momentum=s.momentum, nesterov=True, weight_decay=wd
        )
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    raise ValueError(f"unknown optimizer {name!r}")


def make_scheduler(optimizer, s: TrainingSettings, steps_per_epoch: int):
    """A scheduler stepped once per optimizer step, or None for a constant rate."""
    from torch.optim import lr_scheduler

    total = s.epochs * steps_per_epoch
    if s.schedule == "constant":
        return None
    if s.schedule == "step":
        return lr_scheduler.StepLR(
            optimizer, step_size=s.step_size * steps_per_epoch, gamma=s.gamma
        )
    if s.schedule == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if s.schedule == "onecycle":
        return lr_scheduler.OneCycleLR(
            optimizer, max_lr=s.learning_rate, total_steps=total
        )
    raise ValueError(f"unknown schedule {s.schedule!r}")


class LossFunction:
    """The loss and the accuracy counter for one task, on device tensors."""

    def __init__(self, name: str, task: str, num_classes: int | None):
        import torch.nn.functional as F

        self.name = name
        self.classification = task == "classification"
        self.num_classes = num_classes
        self._F = F

    def targets(self, y):
        """Turn stored labels into what the loss compares against (done once)."""
        if not self.classification:
            return y
        if self.name == "bce_with_logits":
            return y.float().unsqueeze(1)
        if self.name in ("mse", "l1", "huber"):
            return self._F.one_hot(y, self.num_classes).float()
        return y

    def __call__(self, out, target):
        F = self._F
        if self.name == "cross_entropy":
            return F.cross_entropy(out, target)
        if self.name == "bce_with_logits":
            return F.binary_cross_entropy_with_logits(out, target)
        if self.name == "hinge":
            return F.multi_margin_loss(out, target)
        if self.name == "mse":
            return F.mse_loss(out, target)
        if self.name == "l1":
            return F.l1_loss(out, target)
        if self.name == "huber":
            return F.huber_loss(out, target)
        raise ValueError(f"unknown loss {self.name!r}")

    def predict(self, out):
        """Predicted class per example: (batch,) int64."""
        if out.shape[1] == 1:
            return (out.detach()[:, 0] > 0).long()
        return out.argmax(1)

    def correct(self, out, labels):
        """Number of right answers in a batch, as a device tensor (no sync)."""
        # argmax and comparisons record no graph, so `out` needs no detach
        if out.shape[1] == 1:
            return ((out.detach()[:, 0] > 0).long() == labels).sum()
        return (out.argmax(1) == labels).sum()


def state_to_numpy(model) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}


class Trainer:
    """`for event in Trainer(spec, dataset, settings).run(control): ...`

    Every run ends with exactly one Finished, Stopped or Failed event.

    Small dense networks on the CPU train on a lean numpy path (see
    lean_dense); ``lean=False`` keeps every run on PyTorch. Either way the
    events, the numbers and ``model`` (a torch module) are the same.
    """

    def __init__(
        self,
        spec,
        dataset,
        settings: TrainingSettings | None = None,
        initial_state: dict[str, np.ndarray] | None = None,
        lean: bool = True,
    ):
        self.spec = spec
        self.dataset = dataset
        self.settings = settings or TrainingSettings()
        self.initial_state = initial_state
        self.lean = lean
        self.model = None  # the trained torch module, available after run()
        # "lean" or "torch" once a run has started; lean_refusal says why not lean
        self.path: str | None = None
        self.lean_refusal: str | None = None
        self._history: list[EpochMetrics] = []
        self._last_good: dict[str, np.ndarray] | None = None
        self._steps = 0
        self._best_epoch = 0
        self._elapsed = None
        self._examples = 0
        self._step_log = StepLog()

    # -- public -------------------------------------------------------------
    def run(self, control: RunControl | None = None) -> Iterator[object]:
        control = control or RunControl()
        try:
            yield from self._run(control)
        except _NonFinite as exc:
            if self._last_good is not None and self.model is not None:
                self._load_numpy(self._last_good)
            yield Failed(str(exc), self._summary(self._last_good))
        except _USER_ERRORS as exc:
            yield Failed(str(exc), None)
        except Exception as exc:  # the run must end in an event, never a traceback
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            if self._last_good is not None and self.model is not None:
                try:  # the model handed back matches the weights reported
                    self._load_numpy(self._last_good)
                except Exception:
                    pass  # the first error is the one to report
            yield Failed(
                f"training failed: {type(exc).__name__}: {message}",
                self._summary(self._last_good) if self._last_good else None,
            )

    # -- the loop ------------------------------------------------------------
    def _run(self, control: RunControl):
        import torch

        from playground.core.builder import build_model
        from playground.core.devices import resolve_device

        s, ds = self.settings, self.dataset
        s.check()
        device_name = resolve_device(s.device)
        shapes = infer_shapes(self.spec)
        loss_name = check_training(self.spec, ds, s, device_name, shapes)

        # The lean path starts from these weights too, so both paths agree.
        torch.manual_seed(s.seed)
        device = torch.device(device_name)
        model = build_model(self.spec).to(device)
        self.model = model
        if self.initial_state is not None:
            self._load_numpy(self.initial_state)

        n = len(ds.x_train)
        batch = min(s.batch_size, n)
        steps_per_epoch = batch_count(n, batch)
        args = (model, shapes, ds, loss_name, s, batch, steps_per_epoch)
        self.lean_refusal = (
            lean_refusal(shapes, s, device_name, loss_name, batch)
            if self.lean
            else "turned off"
        )
        if self.lean_refusal is None:
            net = LeanDense(*args)
            self.path = "lean"
        else:
            net = _TorchNet(*args, device=device)
            self.path = "torch"
        classification = ds.task == "classification"

        yield RunStarted(
            total_epochs=s.epochs,
            steps_per_epoch=steps_per_epoch,
            device=str(device),
            parameter_count=net.parameter_count,
            layer_names=net.layer_names,
        )

        log_every = s.log_every
        best_val = math.inf
        best_state = None
        bad_epochs = 0
        step = 0
        start = time.perf_counter()
        paused_seconds = 0.0
        last_report_time = start
        last_report_examples = 0
        examples = 0

        def elapsed() -> float:
            return time.perf_counter() - start - paused_seconds

        self._elapsed = elapsed

        self._last_good = net.state()
        last_good_time = time.perf_counter()
        last_batch = steps_per_epoch - 1
        step_log = self._step_log
        for epoch in range(1, s.epochs + 1):
            net.start_epoch()
            epoch_loss_sum = 0.0
            epoch_examples = 0
            epoch_norms = []  # the gradient norms reported in this epoch
            for b in range(steps_per_epoch):
                if control.held:
                    control.wait_while_held()
                if control.paused:
                    yield Paused(step)
                    t_pause = time.perf_counter()
                    while not control.wait_while_paused(0.25):
                        pass
                    paused_seconds += time.perf_counter() - t_pause
                    last_report_time += time.perf_counter() - t_pause
                    if not control.stop_requested:
                        yield Resumed(step)
                if control.stop_requested:
                    self._flush(net)
                    state = net.state()
                    net.finish()
                    yield Stopped(self._summary(state))
                    return
                single = control.take_step_request()

                size = net.forward(b)
                step += 1
                examples += size
                self._steps, self._examples = step, examples
                epoch_examples += size
                check = single or step % log_every == 0
                if check:
                    mean = self._flush(net)  # raises on NaN/inf
                    epoch_loss_sum += mean
                    # These weights produced a finite loss: keep them as the
                    # fallback should a later step diverge.
                    if time.perf_counter() - last_good_time >= LAST_GOOD_EVERY_S:
                        self._last_good = net.state()
                        last_good_time = time.perf_counter()

                # an epoch without a report still gets its last step's norms
                norms = net.learn(check or (b == last_batch and not epoch_norms))
                if norms is not None:
                    epoch_norms.append(norms)

                if check:
                    now = time.perf_counter()
                    span = now - last_report_time
                    rate = (examples - last_report_examples) / span if span > 0 else 0.0
                    last_report_time, last_report_examples = now, examples
                    read = max(1, self._last_flush_examples)
                    right = self._last_flush_correct
                    metrics = StepMetrics(
                        step=step,
                        epoch=epoch - 1 + (b + 1) / steps_per_epoch,
                        loss=mean / read,
                        learning_rate=net.learning_rate,
                        examples_per_second=rate,
                        wall_time=elapsed(),
                        accuracy=None if right is None else right / read,
                    )
                    step_log.add(metrics)
                    yield metrics
                    yield GradientNorms(step=step, norms=norms)
                    if control.take_snapshot_request() or single:
                        weights, activations = net.snapshot(self._probe(control))
                        yield Snapshot(
                            step=step,
                            epoch=epoch - 1 + (b + 1) / steps_per_epoch,
                            weights=weights,
                            activations=activations,
                        )
                    if single:
                        control.pause()  # one batch done: wait for the next click

            epoch_loss_sum += self._flush(net)
            train_loss = epoch_loss_sum / epoch_examples
            train_acc = None
            if classification:
                train_acc = net.train_correct() / epoch_examples
            val_loss, val_acc, confusion = net.evaluate()
            if not math.isfinite(val_loss):
                raise _NonFinite(
                    f"the validation loss became {val_loss} at epoch {epoch}; "
                    + NAN_ADVICE
                )
            if val_loss < best_val:
                best_val, self._best_epoch, bad_epochs = val_loss, epoch, 0
                if s.early_stopping:
                    best_state = net.state()
            else:
                bad_epochs += 1
            now = elapsed()
            metrics = EpochMetrics(
                epoch=epoch,
                step=step,
                train_loss=train_loss,
                val_loss=val_loss,
                train_accuracy=train_acc,
                val_accuracy=val_acc,
                learning_rate=net.learning_rate,
                wall_time=now,
                examples_per_second=examples / now if now > 0 else 0.0,
                best_epoch=self._best_epoch,
                confusion=confusion,
                gradient_norms=_mean_norms(epoch_norms),
            )
            self._history.append(metrics)
            self._last_good = net.state()
            yield metrics
            if s.early_stopping and bad_epochs >= s.patience:
                self._load_numpy(best_state)
                yield Finished(
                    self._summary(best_state, restored_best=True),
                    reason="early stopping",
                )
                return

        if s.early_stopping and best_state is not None:
            self._load_numpy(best_state)
            yield Finished(
                self._summary(best_state, restored_best=True), reason="completed"
            )
            return
        state = net.state()
        net.finish()
        yield Finished(self._summary(state), reason="completed")

    # -- helpers --------------------------------------------------------------
    def _flush(self, net) -> float:
        """Read the pending losses and right answers (one device sync); return
        the losses' sum weighted by examples."""
        values, sizes, self._last_flush_correct = net.take_losses()
        if not values:
            self._last_flush_examples = 0
            return 0.0
        total = 0.0
        for value, size in zip(values, sizes):
            if not math.isfinite(value):
                raise _NonFinite(
                    f"the loss became {value} near step {self._steps} "
                    f"(epoch {len(self._history) + 1}); " + NAN_ADVICE
                )
            total += value * size
        self._last_flush_examples = sum(sizes)
        return total

    _last_flush_examples = 0
    _last_flush_correct: int | None = None

    def _probe(self, control) -> np.ndarray | None:
        """The inputs a snapshot reports on when the driver's choice fits; None
        for the default (a few validation examples)."""
        chosen = control.probe
        if chosen is None:
            return None
        arr = np.asarray(chosen, dtype=np.float32)
        if arr.ndim < 1 or tuple(arr.shape[1:]) != tuple(self.dataset.input_shape):
            return None
        return arr

    def _load_numpy(self, state):
        import torch

        if state is None:
            return
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})

    def _summary(self, state, restored_best: bool = False) -> RunSummary:
        seconds = self._elapsed() if self._elapsed else 0.0
        return RunSummary(
            epochs_completed=len(self._history),
            steps=self._steps,
            best_epoch=self._best_epoch,
            history=tuple(self._history),
            state_dict=state or {},
            wall_time=seconds,
            examples_per_second=self._examples / seconds if seconds > 0 else 0.0,
            restored_best=restored_best,
            step_series=self._step_log.columns(),
        )


class _TorchNet:
    """The general path: any network, any device, one PyTorch call chain per
    batch. `Trainer` drives it (or LeanDense, which has the same methods).

    Hot-loop rules as in the module docstring: losses and accuracy counts
    stay on the device until take_losses (the window's) and train_correct
    (the epoch's)."""

    def __init__(self, model, shapes, dataset, loss_name, settings, batch: int,
                 steps_per_epoch: int, device):
        import torch

        s = settings
        self.model = model
        self.device = device
        self.loss_fn = loss_fn = LossFunction(
            loss_name, dataset.task, dataset.num_classes
        )
        self.classification = loss_fn.classification
        # (examples, *input_shape); labels (examples,) or targets (examples, T)
        self.x_train = torch.as_tensor(dataset.x_train, device=device)
        self.y_train = torch.as_tensor(dataset.y_train, device=device)
        self.t_train = loss_fn.targets(self.y_train)
        self.x_val = torch.as_tensor(dataset.x_val, device=device)
        self.y_val = torch.as_tensor(dataset.y_val, device=device)
        self.t_val = loss_fn.targets(self.y_val)
        self.probe_default = (
            self.x_val[:PROBE_EXAMPLES] if len(self.x_val)
            else self.x_train[:PROBE_EXAMPLES]
        )
        self.labels_are_targets = self.t_train is self.y_train  # cross-entropy, hinge
        self.n = len(self.x_train)
        self.batch = batch
        self.steps_per_epoch = steps_per_epoch
        self.eval_batch = eval_batch_size(shapes.activation_elements, batch)
        params = [p for p in model.parameters() if p.requires_grad]
        self.params = params
        self.optimizer = make_optimizer(s.optimizer, params, s)
        self.scheduler = make_scheduler(self.optimizer, s, steps_per_epoch)
        self.penalized = [p for p in params if p.dim() > 1]  # weights, not biases
        self.use_penalty = (s.l1 > 0 or s.l2 > 0) and bool(self.penalized)
        self.layer_groups = _layer_parameter_groups(model)
        self.shuffle = torch.Generator().manual_seed(s.seed)
        self.settings = s
        self.parameter_count = sum(p.numel() for p in params)
        self.layer_names = tuple(self.layer_groups)
        self.window: list = []  # loss tensors since the last read
        self.window_sizes: list[int] = []
        self.corrects: list = []  # right answers since the last read, per batch
        self.right = 0  # right answers read this epoch
        self.order = None
        self.total = None

    def start_epoch(self) -> None:
        import torch

        self.model.train()
        self.order = torch.randperm(self.n, generator=self.shuffle).to(self.device)
        self.corrects = []
        self.right = 0

    def forward(self, b: int) -> int:
        s = self.settings
        end = self.n if b == self.steps_per_epoch - 1 else (b + 1) * self.batch
        idx = self.order[b * self.batch : end]
        xb, tb = self.x_train[idx], self.t_train[idx]
        out = self.model(xb)
        loss = self.loss_fn(out, tb)
        total = loss
        if self.use_penalty:
            penalized = self.penalized
            if s.l1 > 0:
                total = total + s.l1 * sum(p.abs().sum() for p in penalized)
            if s.l2 > 0:
                total = total + s.l2 * sum(p.square().sum() for p in penalized)
        self.total = total
        size = len(idx)
        self.window.append(loss.detach())
        self.window_sizes.append(size)
        if self.classification:
            labels = tb if self.labels_are_targets else self.y_train[idx]
            self.corrects.append(self.loss_fn.correct(out, labels))
        return size

    def take_losses(self) -> tuple[list[float], list[int], int | None]:
        """Each batch's mean loss since the last call, their sizes, and the
        right answers over them (None for regression), in one device read."""
        if not self.window:
            return [], [], None
        import torch

        losses = torch.stack(self.window)
        right = None
        if self.classification:
            count = torch.stack(self.corrects).sum()
            self.corrects = []
            # One read for both. At least float32 (exact to 2**24 examples a
            # read); not float64, which Apple's MPS lacks.
            dtype = torch.promote_types(losses.dtype, torch.float32)
            losses = torch.cat([losses.to(dtype), count.to(dtype).reshape(1)])
        values = losses.tolist()
        if self.classification:
            right = int(values.pop())
            self.right += right
        sizes = self.window_sizes
        self.window, self.window_sizes = [], []
        return values, sizes, right

    def learn(self, report: bool) -> dict[str, float] | None:
        import torch

        self.optimizer.zero_grad(set_to_none=True)
        self.total.backward()
        self.total = None
        if self.settings.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(self.params, self.settings.grad_clip)
        norms = _gradient_norms(self.layer_groups) if report else None
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        return norms

    @property
    def learning_rate(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def train_correct(self) -> int:
        """Right answers over the epoch: the trainer has read every loss by
        then, and each read counted its batches' (no second device read)."""
        return self.right

    def evaluate(self):
        import torch

        x, t, y, loss_fn = self.x_val, self.t_val, self.y_val, self.loss_fn
        model = self.model
        if len(x) == 0:
            return float("nan"), None, None
        model.eval()
        loss_sum = 0.0
        classes = loss_fn.num_classes or 0
        counts = None
        chunk = self.eval_batch
        with torch.no_grad():
            for i in range(0, len(x), chunk):
                out = model(x[i : i + chunk])
                loss_sum += float(loss_fn(out, t[i : i + chunk])) * len(out)
                if loss_fn.classification:
                    # (chunk,) true * classes + predicted -> one bincount per chunk
                    cells = y[i : i + chunk] * classes + loss_fn.predict(out)
                    found = torch.bincount(cells, minlength=classes * classes)
                    counts = found if counts is None else counts + found
        model.train()
        if not loss_fn.classification:
            return loss_sum / len(x), None, None
        confusion = counts.cpu().numpy().reshape(classes, classes)
        acc = float(np.trace(confusion)) / len(x)
        return loss_sum / len(x), acc, confusion

    def state(self) -> dict[str, np.ndarray]:
        return state_to_numpy(self.model)

    def snapshot(self, probe) -> tuple[dict, dict]:
        import torch

        model = self.model
        if probe is None:
            h = self.probe_default
        else:
            h = torch.as_tensor(probe, device=self.device)
        activations = {}
        was_training = model.training
        model.eval()
        with torch.no_grad():
            for name, layer in model.named_children():
                h = layer(h)
                activations[name] = h.detach().cpu().numpy().copy()
        model.train(was_training)
        weights = {
            k: v.detach().cpu().numpy().copy() for k, v in model.named_parameters()
        }
        return weights, activations

    def finish(self) -> None:
        """The model already holds the weights."""


class _NonFinite(Exception):
    pass


def _user_errors():
    from playground.core.compat import CompatibilityError
    from playground.core.devices import DeviceError
    from playground.core.settings import SettingsError
    from playground.core.spec import SpecError

    return (CompatibilityError, DeviceError, SettingsError, SpecError)


_USER_ERRORS = _user_errors()


def _mean_norms(reports: list) -> dict[str, float] | None:
    """Each layer's mean over an epoch's gradient-norm reports (plain Python:
    a few reports of a few layers, where numpy's set-up cost 2% of a lean
    epoch)."""
    if not reports:
        return None
    if len(reports) == 1:
        return dict(reports[0])
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for report in reports:
        for name, value in report.items():
            sums[name] = sums.get(name, 0.0) + value
            counts[name] = counts.get(name, 0) + 1
    return {name: total / counts[name] for name, total in sums.items()}


def _layer_parameter_groups(model) -> dict[str, list]:
    """Trainable parameters grouped by top-level layer, named like '2 Linear'."""
    groups: dict[str, list] = {}
    for name, layer in model.named_children():
        params = [p for p in layer.parameters() if p.requires_grad]
        if params:
            groups[f"{name} {type(layer).__name__}"] = params
    return groups


def _gradient_norms(groups: dict[str, list]) -> dict[str, float]:
    import torch

    names, norms = [], []
    for name, params in groups.items():
        grads = [p.grad for p in params if p.grad is not None]
        if grads:
            names.append(name)
            norms.append(torch.linalg.vector_norm(torch.stack(
                [torch.linalg.vector_norm(g) for g in grads])))
    if not norms:
        return {}
    values = torch.stack(norms).tolist()
    return dict(zip(names, values))
