"""A lean training path for small dense networks: numpy with hand-written passes.

On TensorFlow Playground's networks (a few dozen tanh units, batches of 10) a
PyTorch step is almost all per-call overhead: autograd records and replays a
graph, each module and each optimizer parameter is a separate dispatch. Here
a step is a fixed list of numpy calls on preallocated arrays: all parameters
live in one flat float32 buffer (so the optimizer is a few whole-buffer
operations), each Linear keeps its bias as an extra weight column fed by a
column of ones (so forward and backward need no bias add and no bias sum), and
the per-step loss values are computed only when the trainer reads them.

The numbers follow torch's float32 formulas (the same initial weights, the same
shuffles, torch's update rules for each optimizer and schedule), so a run here
matches a run on the torch path to rounding. `Trainer` picks this path by
itself where `lean_refusal` finds nothing against it.
"""

from __future__ import annotations

import math

import numpy as np

# Torch's fixed hyperparameters for the optimizers the settings do not expose.
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
ADAGRAD_EPS = 1e-10
RMSPROP_ALPHA = 0.99
RMSPROP_EPS = 1e-8
# numpy's OpenBLAS splits a matrix product over m*n*k above 2**19 across every
# core (measured here: process CPU time twice the wall time, threads left
# spinning afterwards), where the engine leaves one core to the window. Every
# product here stays below, which also bounds the lean path to where it pays.
BLAS_ONE_THREAD = 2**19
# The gain shrinks as whole-buffer optimizer work grows (bench/spiral_speed.py
# --sizes, Adam at batch 1: 2x the torch path at 130k parameters, none at 525k).
MAX_PARAMETERS = 150_000

ACTIVATIONS = ("Tanh", "Sigmoid", "ReLU", "LeakyReLU")
PASS_THROUGH = ("Identity", "Flatten")
LOSSES = ("cross_entropy", "bce_with_logits", "mse", "l1", "huber")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")
# One-cycle also cycles the optimizer's momentum; it stays on the torch path.
SCHEDULES = ("constant", "step", "cosine")
PROBE_EXAMPLES = 64

_LINEAR, _TANH, _SIGMOID, _RELU, _LEAKY = range(5)
_CODES = {"Tanh": _TANH, "Sigmoid": _SIGMOID, "ReLU": _RELU, "LeakyReLU": _LEAKY}


def lean_refusal(summary, settings, device: str, loss: str, batch: int) -> str | None:
    """Why a run cannot take the lean path, or None when it can.

    ``summary`` is the network's infer_shapes result, ``device`` the resolved
    device, ``loss`` the resolved loss name and ``batch`` the batch size used
    (at most the number of training examples)."""
    if device != "cpu":
        return f"it trains on {device}"
    if loss not in LOSSES:
        return f"the {loss} loss is not implemented here"
    if settings.optimizer not in OPTIMIZERS:
        return f"the {settings.optimizer} optimizer is not implemented here"
    if settings.schedule not in SCHEDULES:
        return f"the {settings.schedule} schedule is not implemented here"
    linear = 0
    for i, info in enumerate(summary.layers):
        kind = info.type
        flat_input = len(info.input_shape) == 1
        if kind == "Flatten" and not flat_input:
            args = info.args
            if i or args.get("start_dim", 1) != 1 or args.get("end_dim", -1) != -1:
                return "only a leading Flatten of whole examples is supported"
            continue
        if kind not in ("Linear", *ACTIVATIONS, *PASS_THROUGH):
            return f"layer {i} is a {kind}"
        if not flat_input or len(info.output_shape) != 1:
            return f"layer {i} ({kind}) does not work on flat vectors"
        if kind == "Linear":
            linear += 1
            # a last batch of one example joins the one before: batch + 1 rows
            product = (batch + 1) * info.output_shape[0] * (info.input_shape[0] + 1)
            if product > BLAS_ONE_THREAD:
                return f"layer {i} is too large for one thread at batch {batch}"
        if info.trainable_params != info.params:
            return f"layer {i} has frozen parameters"
    if not linear:
        return "the network has no Linear layer"
    if summary.trainable_params > MAX_PARAMETERS:
        return f"the network has more than {MAX_PARAMETERS:,} parameters"
    return None


class _Block:
    """One Linear layer's views into the flat parameter and gradient buffers."""

    def __init__(self, index, n_in, n_out, bias, params, grads, offset):
        self.index, self.n_in, self.n_out, self.bias = index, n_in, n_out, bias
        self.offset = offset
        cols = n_in + bias
        end = offset + n_out * cols
        self.flat = params[offset:end]
        self.grad_flat = grads[offset:end]
        self.w = self.flat.reshape(n_out, cols)  # (out, in [+ bias column])
        self.w_t = self.w.T  # (in [+ 1], out): what a row batch multiplies
        self.w_in = self.w[:, :n_in]  # (out, in): without the bias column
        self.grad = self.grad_flat.reshape(n_out, cols)

    def weight(self) -> np.ndarray:
        return self.w_in.copy()  # a C-ordered copy, never a view

    def bias_vector(self) -> np.ndarray:
        return self.w[:, self.n_in].copy()


class _Work:
    """Preallocated arrays for one batch size, and the step as a list of calls.

    ``forward`` holds (code, input, output, arg) per layer; None stands for the
    batch's input rows or its output rows, which change every step.
    ``backward`` holds the reverse pass in the same spirit."""

    def __init__(self, net: LeanDense, m: int):
        ops = net._ops
        last = len(ops) - 1
        outs: list = []
        ins: list = [None]
        for j, (code, width, arg) in enumerate(ops):
            if j == last:
                outs.append(None)
                continue
            nxt = ops[j + 1]
            if nxt[0] == _LINEAR and nxt[2].bias:
                aug = np.ones((m, width + 1), np.float32)  # last column: bias input
                outs.append(aug[:, :width])
                ins.append(aug)
            else:
                buf = np.empty((m, width), np.float32)
                outs.append(buf)
                ins.append(buf)
        self.forward = []
        for j, (code, width, arg) in enumerate(ops):
            if code == _LINEAR:
                arg = arg.w_t
            self.forward.append((code, ins[j], outs[j], arg))
        # Gradients with respect to each layer's output; an activation works
        # in place, so its input's gradient is the same array.
        grads: list = [None] * len(ops)
        grads[last] = np.empty((m, ops[last][1]), np.float32)
        self.grad_out = grads[last]
        self.backward = []
        for j in range(last, -1, -1):
            code, width, arg = ops[j]
            g = grads[j]
            if code == _LINEAR:
                upstream = j > net._first_linear
                if upstream:
                    grads[j - 1] = np.empty((m, arg.n_in), np.float32)
                self.backward.append(
                    (
                        code,
                        g,
                        ins[j],
                        arg.grad,
                        arg.w_in,
                        grads[j - 1] if upstream else None,
                    )
                )
            elif j > net._first_linear:
                grads[j - 1] = g
                tmp = np.empty((m, width), np.float32)
                mask = np.empty((m, width), bool)
                # tanh, sigmoid and ReLU read their output, LeakyReLU its input
                seen = ins[j] if code == _LEAKY else outs[j]
                self.backward.append((code, g, seen, tmp, mask, arg))
        self.col = np.empty((m, 1), np.float32)  # softmax's row maxima and sums


class LeanDense:
    """Training state and passes of a small dense network in numpy.

    The interface is the one `Trainer` drives (see trainer._TorchNet)."""

    def __init__(
        self,
        model,
        summary,
        dataset,
        loss_name,
        settings,
        batch: int,
        steps_per_epoch: int,
    ):
        s = settings
        self.model = model
        self.loss_name = loss_name
        self.classification = dataset.task == "classification"
        self.num_classes = dataset.num_classes
        self._batch = batch
        self._steps_per_epoch = steps_per_epoch
        self._n = n = len(dataset.x_train)

        # -- parameters: one flat buffer, a block of views per Linear ---------
        state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
        sizes, plan = [], []
        for i, info in enumerate(summary.layers):
            if info.type == "Linear":
                n_in, n_out = info.input_shape[0], info.output_shape[0]
                bias = bool(info.args.get("bias", True))
                plan.append((i, n_in, n_out, bias))
                sizes.append(n_out * (n_in + bias))
        self.params = np.empty(sum(sizes), np.float32)
        self.grads = np.zeros_like(self.params)
        self._blocks: list[_Block] = []
        offset = 0
        for (i, n_in, n_out, bias), size in zip(plan, sizes, strict=True):
            block = _Block(i, n_in, n_out, bias, self.params, self.grads, offset)
            block.w_in[...] = state[f"{i}.weight"]
            if bias:
                block.w[:, n_in] = state[f"{i}.bias"]
            self._blocks.append(block)
            offset += size
        self.parameter_count = int(self.params.size)
        self.layer_names = tuple(f"{b.index} Linear" for b in self._blocks)
        self._layers = [(info.type, info.args) for info in summary.layers]
        self._names = [name for name, _ in model.named_children()]
        # rows per evaluation or snapshot chunk, one thread's worth (see above)
        widest = max(b.n_out * (b.n_in + 1) for b in self._blocks)
        self._chunk = max(1, BLAS_ONE_THREAD // widest)

        # -- the hot pass: Identity and Flatten drop out ------------------------
        ops = []
        by_index = {b.index: b for b in self._blocks}
        for i, info in enumerate(summary.layers):
            if info.type in PASS_THROUGH:
                continue
            if info.type == "Linear":
                ops.append((_LINEAR, info.output_shape[0], by_index[i]))
            else:
                slope = float(info.args.get("negative_slope", 0.01))
                ops.append((_CODES[info.type], info.output_shape[0], slope))
        self._ops = ops
        self._first_linear = next(j for j, op in enumerate(ops) if op[0] == _LINEAR)
        self._work: dict[int, _Work] = {}

        # -- data: inputs with the ones column, targets as the loss needs them
        first = ops[0]
        ones = first[0] == _LINEAR and first[2].bias
        self._x = self._inputs(dataset.x_train, ones)
        self._targets = self._dense_targets(dataset.y_train)
        self._labels = dataset.y_train if self.classification else None
        self._x_val = self._inputs(dataset.x_val, False)
        self._y_val = dataset.y_val
        self._t_val = self._dense_targets(dataset.y_val)
        self._xe = np.empty_like(self._x)  # this epoch's shuffled copies
        self._te = np.empty_like(self._targets)
        self._le = None if self._labels is None else np.empty_like(self._labels)
        # this epoch's outputs, (examples, outputs)
        self._oe = np.empty((n, summary.output_shape[0]), np.float32)
        probe = dataset.x_val if len(dataset.x_val) else dataset.x_train
        self._probe_default = np.asarray(probe[:PROBE_EXAMPLES], np.float32)

        # -- optimizer and schedule -------------------------------------------
        import torch

        self._shuffle = torch.Generator().manual_seed(s.seed)
        self._settings = s
        self.learning_rate = float(s.learning_rate)
        self._base_lr = self.learning_rate
        self._t = 0  # optimizer steps taken
        self._total_steps = s.epochs * steps_per_epoch
        self._tmp = np.empty_like(self.params)
        self._tmp2 = np.empty_like(self.params)
        name = s.optimizer
        self._state1 = np.zeros_like(self.params) if name != "sgd" else None
        self._state2 = np.zeros_like(self.params) if name.startswith("adam") else None
        if name == "momentum" and s.momentum == 0:
            self._state1 = None  # torch's SGD keeps no buffer without momentum
        self._update = getattr(self, f"_update_{name}")
        self._penalty_masks = self._masks(s.l1, s.l2)

        self._cur = None
        self._sizes: list[int] = []
        self._window_start = 0
        self._right = 0  # right answers read this epoch

    # -- data ------------------------------------------------------------------
    def _inputs(self, x, ones: bool) -> np.ndarray:
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        if not ones:
            return np.ascontiguousarray(x)
        out = np.ones((len(x), x.shape[1] + 1), np.float32)
        out[:, :-1] = x
        return out

    def _dense_targets(self, y) -> np.ndarray:
        """What the loss gradient compares outputs with: (examples, outputs)."""
        if not self.classification:
            return np.asarray(y, np.float32).reshape(len(y), -1)
        y = np.asarray(y)
        if self.loss_name == "bce_with_logits":
            return y.astype(np.float32)[:, None]
        return np.eye(self.num_classes, dtype=np.float32)[y]  # one-hot

    def _masks(self, l1: float, l2: float):
        """Flat factors that put the L1 / L2 penalty on weights, not biases."""
        if not (l1 > 0 or l2 > 0):
            return None
        mask = np.ones_like(self.params)
        for b in self._blocks:
            if b.bias:
                mask[b.offset : b.offset + b.flat.size].reshape(b.w.shape)[:, -1] = 0
        return (
            mask * np.float32(l1) if l1 > 0 else None,
            mask * np.float32(2 * l2) if l2 > 0 else None,
        )

    # -- the driver's interface ---------------------------------------------------
    def start_epoch(self) -> None:
        import torch

        order = torch.randperm(self._n, generator=self._shuffle).numpy()
        np.take(self._x, order, axis=0, out=self._xe)
        np.take(self._targets, order, axis=0, out=self._te)
        if self._le is not None:
            np.take(self._labels, order, axis=0, out=self._le)
        self._window_start = 0
        self._sizes.clear()
        self._right = 0

    def forward(self, b: int) -> int:
        """Run batch b of this epoch forward; returns its size."""
        lo = b * self._batch
        hi = self._n if b == self._steps_per_epoch - 1 else lo + self._batch
        m = hi - lo
        work = self._work.get(m) or self._new_work(m)
        x, out = self._xe[lo:hi], self._oe[lo:hi]
        with np.errstate(all="ignore"):  # a diverging run fails at the next read
            for code, src, dst, arg in work.forward:
                if src is None:
                    src = x
                if dst is None:
                    dst = out
                if code == _LINEAR:
                    np.matmul(src, arg, out=dst)
                elif code == _TANH:
                    np.tanh(src, out=dst)
                elif code == _SIGMOID:  # torch's 1 / (1 + exp(-x))
                    np.negative(src, out=dst)
                    np.exp(dst, out=dst)
                    dst += 1
                    np.reciprocal(dst, out=dst)
                elif code == _RELU:
                    np.maximum(src, 0, out=dst)
                else:  # LeakyReLU: the larger of x and ax (the smaller for a > 1)
                    np.multiply(src, arg, out=dst)
                    (np.maximum if arg <= 1 else np.minimum)(src, dst, out=dst)
        self._cur = (work, x, out, lo, hi)
        self._sizes.append(m)
        return m

    def take_losses(self) -> tuple[list[float], list[int], int | None]:
        """The mean loss of each batch run since the last call, their sizes,
        and the right answers over them (None for regression)."""
        sizes = self._sizes
        if not sizes:
            return [], [], None
        lo = self._window_start
        hi = lo + sum(sizes)
        labels = None if self._le is None else self._le[lo:hi]
        out = self._oe[lo:hi]
        with np.errstate(all="ignore"):
            per_example = self._example_losses(out, self._te[lo:hi], labels)
            starts = np.cumsum([0, *sizes[:-1]])
            sums = np.add.reduceat(per_example, starts)
            values = (sums / np.asarray(sizes, np.float32)).tolist()
        right = None
        if self.classification:
            right = self._count_right(out, labels)
            self._right += right
        self._window_start = hi
        self._sizes = []
        return values, sizes, right

    def learn(self, report: bool) -> dict[str, float] | None:
        """Backward pass and optimizer step for the batch run forward last;
        returns the gradient norm per layer when asked (after clipping)."""
        work, x, out, lo, hi = self._cur
        s = self._settings
        with np.errstate(all="ignore"):
            self._loss_gradient(out, self._te[lo:hi], work, hi - lo)
            for code, g, seen, a, b, c in work.backward:
                if seen is None:  # the batch's input rows, or its output rows
                    seen = x if code == _LINEAR else out
                if code == _LINEAR:  # a: weight gradient, b: weights, c: input grad
                    np.matmul(g.T, seen, out=a)
                    if c is not None:
                        np.matmul(g, b, out=c)
                elif code == _TANH:  # torch: g * (1 - y * y)
                    np.multiply(seen, seen, out=a)
                    np.subtract(1, a, out=a)
                    np.multiply(g, a, out=g)
                elif code == _SIGMOID:  # torch: g * (1 - y) * y
                    np.subtract(1, seen, out=a)
                    np.multiply(g, a, out=g)
                    np.multiply(g, seen, out=g)
                elif code == _RELU:  # torch: 0 where the output is not positive
                    np.greater(seen, 0, out=b)
                    np.multiply(g, b, out=g)
                else:  # LeakyReLU, torch: g where the input is positive, else a g
                    np.less_equal(seen, 0, out=b)
                    np.multiply(g, c, out=a)
                    np.copyto(g, a, where=b)
            grads = self.grads
            if self._penalty_masks is not None:
                l1, l2 = self._penalty_masks
                tmp = self._tmp
                if l1 is not None:
                    np.sign(self.params, out=tmp)
                    tmp *= l1
                    grads += tmp
                if l2 is not None:
                    np.multiply(self.params, l2, out=tmp)
                    grads += tmp
            if s.grad_clip > 0:
                total = np.sqrt(np.dot(grads, grads))
                coef = np.float32(s.grad_clip) / (total + np.float32(1e-6))
                if not coef >= 1:  # torch multiplies by min(coef, 1), NaN included
                    grads *= coef
            norms = None
            if report:
                norms = {
                    name: float(np.sqrt(np.dot(b.grad_flat, b.grad_flat)))
                    for name, b in zip(self.layer_names, self._blocks, strict=True)
                }
            self._t += 1
            self._update(self.learning_rate)
            self._schedule()
        return norms

    def train_correct(self) -> int:
        """Right answers over the epoch just run (each with its batch's
        weights): the trainer has read every loss by then, and each read
        counted its batches'."""
        return self._right

    def evaluate(self):
        """(mean loss, accuracy, confusion matrix) on the validation split."""
        x = self._x_val
        if len(x) == 0:
            return float("nan"), None, None
        with np.errstate(all="ignore"):
            total = 0.0
            counts = None
            classes = self.num_classes or 0
            chunk = self._chunk
            for i in range(0, len(x), chunk):
                out = self._outputs(x[i : i + chunk])[-1]
                y = self._y_val[i : i + chunk]
                losses = self._example_losses(
                    out, self._t_val[i : i + chunk], y if self.classification else None
                )
                total += float(losses.sum(dtype=np.float64))
                if self.classification:
                    cells = y * classes + self._predict(out)
                    found = np.bincount(cells, minlength=classes * classes)
                    counts = found if counts is None else counts + found
        if not self.classification:
            return total / len(x), None, None
        confusion = counts.reshape(classes, classes)
        return total / len(x), float(np.trace(confusion)) / len(x), confusion

    def state(self) -> dict[str, np.ndarray]:
        """A copy of the weights, keyed and shaped like the torch model's."""
        out = {}
        for b in self._blocks:
            out[f"{b.index}.weight"] = b.weight()
            if b.bias:
                out[f"{b.index}.bias"] = b.bias_vector()
        return out

    def snapshot(self, probe) -> tuple[dict, dict]:
        """(weights, each top-level layer's output on the probe inputs)."""
        x = self._probe_default if probe is None else probe
        x = np.asarray(x, np.float32).reshape(len(x), -1)
        chunk = self._chunk
        with np.errstate(all="ignore"):
            starts = range(0, max(1, len(x)), chunk)
            parts = [self._outputs(x[i : i + chunk]) for i in starts]
        if len(parts) == 1:
            outs = parts[0]
        else:
            outs = [np.concatenate(layer) for layer in zip(*parts)]
        return self.state(), dict(zip(self._names, outs, strict=True))

    def finish(self) -> None:
        """Hand the current weights to the torch model the caller keeps."""
        import torch

        self.model.load_state_dict(
            {k: torch.from_numpy(v) for k, v in self.state().items()}
        )

    # -- passes ------------------------------------------------------------------
    def _new_work(self, m: int) -> _Work:
        work = self._work[m] = _Work(self, m)
        return work

    def _outputs(self, h) -> list[np.ndarray]:
        """Every layer's output for (examples, features) inputs, freshly allocated."""
        by_index = {b.index: b for b in self._blocks}
        outs = []
        for i, (kind, args) in enumerate(self._layers):
            if kind == "Linear":
                b = by_index[i]
                h = h @ b.w_in.T
                if b.bias:
                    h += b.w[:, b.n_in]
            elif kind == "Tanh":
                h = np.tanh(h)
            elif kind == "Sigmoid":
                h = np.reciprocal(1 + np.exp(-h))
            elif kind == "ReLU":
                h = np.maximum(h, 0)
            elif kind == "LeakyReLU":
                h = np.where(h > 0, h, h * np.float32(args.get("negative_slope", 0.01)))
            else:  # Identity, Flatten (inputs arrive flat)
                h = h.copy()
            outs.append(h)
        return outs

    def _count_right(self, out, labels) -> int:
        if out.shape[1] == 1:  # True == 1: no int copy of the predictions
            return int(np.count_nonzero((out[:, 0] > 0) == labels))
        return int(np.count_nonzero(out.argmax(1) == labels))

    def _predict(self, out) -> np.ndarray:
        if out.shape[1] == 1:
            return (out[:, 0] > 0).astype(np.int64)
        return out.argmax(1)

    def _example_losses(self, out, t, labels) -> np.ndarray:
        """Each example's loss, (examples,) float32; the batch loss is their mean."""
        name = self.loss_name
        if name == "bce_with_logits":
            x = out[:, 0]
            return (np.maximum(x, 0) - x * t[:, 0]) + np.log1p(np.exp(-np.abs(x)))
        if name == "cross_entropy":
            top = out.max(1, keepdims=True)
            lse = np.log(np.exp(out - top).sum(1)) + top[:, 0]
            return lse - np.take_along_axis(out, labels[:, None], 1)[:, 0]
        d = out - t
        if name == "mse":
            return (d * d).mean(1)
        d = np.abs(d)
        if name == "l1":
            return d.mean(1)
        return np.where(d < 1, 0.5 * d * d, d - 0.5).mean(1)  # huber, delta 1

    def _loss_gradient(self, out, t, work: _Work, m: int) -> None:
        """d(mean loss)/d(outputs) into work.grad_out, as torch's backward has it."""
        g = work.grad_out
        name = self.loss_name
        if name == "bce_with_logits":  # (sigmoid(x) - t) / N
            np.negative(out, out=g)
            np.exp(g, out=g)
            g += 1
            np.reciprocal(g, out=g)
            g -= t
            g *= np.float32(1 / m)
        elif name == "cross_entropy":  # (softmax(x) - one-hot) / N
            col = work.col
            np.max(out, axis=1, keepdims=True, out=col)
            np.subtract(out, col, out=g)
            np.exp(g, out=g)
            np.sum(g, axis=1, keepdims=True, out=col)
            g /= col
            g -= t
            g *= np.float32(1 / m)
        else:
            np.subtract(out, t, out=g)
            n = g.size
            if name == "mse":
                g *= np.float32(2 / n)
                return
            if name == "l1":
                np.sign(g, out=g)
            else:  # huber with delta 1
                np.clip(g, -1, 1, out=g)
            g *= np.float32(1 / n)

    # -- optimizers: torch's single-tensor formulas on the flat buffer ------------
    def _decayed(self) -> np.ndarray:
        """The gradient with L2 weight decay added (torch: grad + wd * param)."""
        wd = self._settings.weight_decay
        if wd != 0:
            np.multiply(self.params, wd, out=self._tmp)
            self.grads += self._tmp
        return self.grads

    def _update_sgd(self, lr: float) -> None:
        step = np.multiply(self._decayed(), lr, out=self._tmp2)
        self.params -= step

    def _update_momentum(self, lr: float, nesterov: bool = False) -> None:
        g = self._decayed()
        buf = self._state1
        if buf is None:  # momentum 0: plain SGD
            self.params -= np.multiply(g, lr, out=self._tmp2)
            return
        mu = self._settings.momentum
        if self._t == 1:
            buf[...] = g
        else:
            buf *= mu
            buf += g
        if nesterov:
            direction = np.multiply(buf, mu, out=self._tmp)
            direction += g
        else:
            direction = buf
        self.params -= np.multiply(direction, lr, out=self._tmp2)

    def _update_nesterov(self, lr: float) -> None:
        self._update_momentum(lr, nesterov=True)

    def _update_adam(self, lr: float, decoupled: bool = False) -> None:
        wd = self._settings.weight_decay
        if decoupled:
            if wd != 0:
                self.params *= 1 - lr * wd
            g = self.grads
        else:
            g = self._decayed()
        b1, b2 = ADAM_BETAS
        m, v, tmp, tmp2 = self._state1, self._state2, self._tmp, self._tmp2
        np.subtract(g, m, out=tmp)  # m.lerp_(g, 1 - b1)
        tmp *= 1 - b1
        m += tmp
        v *= b2  # v.mul_(b2).addcmul_(g, g, value=1 - b2)
        np.multiply(g, 1 - b2, out=tmp)
        tmp *= g
        v += tmp
        step = self._t
        step_size = lr / (1 - b1**step)
        np.sqrt(v, out=tmp)  # denominator
        tmp /= (1 - b2**step) ** 0.5
        tmp += ADAM_EPS
        np.multiply(m, -step_size, out=tmp2)
        tmp2 /= tmp
        self.params += tmp2

    def _update_adamw(self, lr: float) -> None:
        self._update_adam(lr, decoupled=True)

    def _update_adagrad(self, lr: float) -> None:
        g = self._decayed()
        total, tmp, tmp2 = self._state1, self._tmp, self._tmp2
        np.multiply(g, g, out=tmp)
        total += tmp
        np.sqrt(total, out=tmp)
        tmp += ADAGRAD_EPS
        np.multiply(g, -lr, out=tmp2)  # torch's lr_decay is 0: the rate stays lr
        tmp2 /= tmp
        self.params += tmp2

    def _update_rmsprop(self, lr: float) -> None:
        g = self._decayed()
        avg, tmp, tmp2 = self._state1, self._tmp, self._tmp2
        avg *= RMSPROP_ALPHA
        np.multiply(g, 1 - RMSPROP_ALPHA, out=tmp)
        tmp *= g
        avg += tmp
        np.sqrt(avg, out=tmp)
        tmp += RMSPROP_EPS
        np.multiply(g, -lr, out=tmp2)
        tmp2 /= tmp
        self.params += tmp2

    def _schedule(self) -> None:
        """The next rate, by torch's own recurrences (so the floats agree)."""
        s = self._settings
        t = self._t
        if s.schedule == "step":
            if t % (s.step_size * self._steps_per_epoch) == 0:
                self.learning_rate = self.learning_rate * s.gamma
        elif s.schedule == "cosine":
            total = self._total_steps
            if (t - 1 - total) % (2 * total) == 0:
                self.learning_rate = (
                    self.learning_rate
                    + self._base_lr * (1 - math.cos(math.pi / total)) / 2
                )
            else:
                self.learning_rate = (
                    (1 + math.cos(math.pi * t / total))
                    / (1 + math.cos(math.pi * (t - 1) / total))
                    * self.learning_rate
                )
