"""The `playground` command line: a public contract that teachers script.

Imports only the core at start-up; Qt is loaded for `gui` and `--self-test`.
Errors are one line on stderr and a non-zero exit, never a traceback unless
--debug is given.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from playground import __version__  # noqa: E402


class CommandError(Exception):
    """A user-facing error: printed as one line, exit status 1."""


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text


# -- datasets ---------------------------------------------------------------------
def cmd_datasets(args) -> int:
    from playground.core.datasets import list_datasets

    infos = list_datasets()
    if args.json:
        out = [
            {
                "name": i.name,
                "title": i.title,
                "task": i.task,
                "input_shape": list(i.input_shape),
                "size": i.size,
                "description": i.description,
                "options": [
                    {
                        "name": o.name,
                        "kind": o.kind,
                        "default": o.default,
                        "minimum": o.minimum,
                        "maximum": o.maximum,
                        "choices": list(o.choices) if o.choices else None,
                        "help": o.help,
                    }
                    for o in i.options
                ],
            }
            for i in infos
        ]
        print(json.dumps(out, indent=2))
        return 0
    rows = [("NAME", "TASK", "INPUT", "SIZE")]
    for i in infos:
        size = f"{i.size:,}" if i.size else "your data"
        rows.append((i.name, i.task, _shape(i.input_shape) if i.input_shape else "-", size))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip())
    return 0


# -- summary ----------------------------------------------------------------------
def _load_spec(path):
    from playground.core.spec import SpecError, load_spec

    where = f"cannot read network spec '{path}'"
    if Path(path).is_dir():
        raise CommandError(f"{where}: it is a folder, not a JSON file")
    if not Path(path).exists():
        raise CommandError(f"{where}: no such file")
    try:
        return load_spec(path)
    except OSError as exc:
        # The OSError text would repeat the path, or name none at all.
        raise CommandError(f"{where}: {exc.strerror or exc}") from exc
    except SpecError as exc:
        raise CommandError(f"{where}: {exc}") from exc


def _layer_json(info, nested: bool = False) -> dict:
    out = {
        "index": info.index,
        "type": info.type,
        "output_shape": list(info.output_shape),
        "params": info.params,
    }
    if nested:
        # A child's index counts within its block; the path places it.
        out["path"] = info.path
    if info.children:
        out["layers"] = [_layer_json(c, nested=True) for c in info.children]
    return out


def _layer_rows(infos, depth: int = 0):
    for info in infos:
        label = info.path if depth else str(info.index)
        yield (label, "  " * depth + info.type, _shape(info.output_shape), f"{info.params:,}")
        yield from _layer_rows(info.children, depth + 1)


def cmd_summary(args) -> int:
    from playground.core.shapes import infer_shapes

    spec = _load_spec(args.spec)
    summary = infer_shapes(spec)
    if args.json:
        payload = {
            "layers": [_layer_json(info) for info in summary.layers],
            "input_shape": list(summary.input_shape),
            "output_shape": list(summary.output_shape),
            "total_params": summary.total_params,
            "trainable_params": summary.trainable_params,
        }
        print(json.dumps(payload, indent=2))
        return 0
    rows = [("#", "LAYER", "OUTPUT SHAPE", "PARAMS"), ("", "input", _shape(summary.input_shape), "")]
    rows.extend(_layer_rows(summary.layers))
    widths = [max(len(r[c]) for r in rows) for c in range(4)]
    for r in rows:
        print(
            "  ".join(
                cell.rjust(w) if c == 3 else cell.ljust(w)
                for c, (cell, w) in enumerate(zip(r, widths))
            ).rstrip()
        )
    print(f"Total parameters: {summary.total_params:,}")
    print(f"Trainable parameters: {summary.trainable_params:,}")
    return 0


# -- train ------------------------------------------------------------------------
def _dataset_from_args(args):
    from playground.core.datasets import get_dataset

    options = {}
    for item in args.data_option or []:
        if "=" not in item:
            raise CommandError(f"--data-option expects KEY=VALUE, got {item!r}")
        key, value = item.split("=", 1)
        options[key.strip()] = _parse_value(value.strip())
    name = args.dataset
    path = Path(name)
    # Absolute: the project file keeps the path, and may be opened elsewhere.
    if name.lower().endswith(".csv"):
        options.setdefault("path", os.path.abspath(name))
        if args.target:
            options.setdefault("target", args.target)
        name = "csv"
    elif path.is_dir():
        options.setdefault("path", os.path.abspath(name))
        name = "image-folder"
    elif args.target:
        raise CommandError("--target is for CSV files")
    return name, options, get_dataset(name, **options)


class _Progress:
    """A one-line progress bar on a terminal; a line per epoch otherwise."""

    def __init__(self, total_epochs: int, quiet: bool):
        self.total = total_epochs
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last_draw = 0.0

    def step(self, event) -> None:
        if self.quiet or not self.tty:
            return
        now = time.monotonic()
        if now - self.last_draw < 0.1:
            return
        self.last_draw = now
        # event.epoch counts the epochs done (0.5: halfway through the first),
        # so the epoch being run is its ceiling; the slack absorbs float error.
        running = max(1, math.ceil(event.epoch - 1e-9))
        text = f"loss {event.loss:.4f}  {event.examples_per_second:,.0f} ex/s"
        self._draw(running, event.epoch, text)

    def epoch(self, m) -> None:
        if self.quiet:
            return
        text = f"train_loss {m.train_loss:.4f}  val_loss {m.val_loss:.4f}"
        if m.val_accuracy is not None:
            text += f"  val_acc {m.val_accuracy:.3f}"
        if self.tty:
            self._draw(m.epoch, m.epoch, text)
        else:
            print(f"epoch {m.epoch}/{self.total}  {text}", file=sys.stderr, flush=True)

    def _draw(self, epoch: int, done: float, text: str) -> None:
        width = 24
        filled = int(width * min(1.0, done / self.total))
        bar = "#" * filled + "." * (width - filled)
        line = f"\repoch {min(epoch, self.total)}/{self.total} [{bar}] {text}"
        sys.stderr.write(line.ljust(100)[:120])
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty and not self.quiet:
            sys.stderr.write("\n")
            sys.stderr.flush()


_OUT_SUFFIXES = (".npg", ".safetensors")


def _check_writable(option: str, path) -> None:
    """Training can take minutes: a file that cannot be written is found now,
    not after, and named as the user typed it."""
    target = Path(path)
    folder = target.parent
    where = f"cannot write {option} '{path}'"
    if target.is_dir():
        raise CommandError(f"{where}: it is a folder")
    if not folder.exists():
        raise CommandError(f"{where}: folder '{folder}' does not exist")
    if not folder.is_dir():
        raise CommandError(f"{where}: '{folder}' is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise CommandError(f"{where}: no permission to write in folder '{folder}'")


def _check_outputs(args) -> None:
    if args.out and Path(args.out).suffix.lower() not in _OUT_SUFFIXES:
        raise CommandError("--out must end in .npg (a project) or .safetensors (weights)")
    if args.out:
        _check_writable("--out", args.out)
    if args.metrics_json:
        _check_writable("--metrics-json", args.metrics_json)


def _settings_from_args(args):
    from playground.core.settings import TrainingSettings

    changes = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "optimizer": args.optimizer,
        "loss": args.loss,
        "seed": args.seed,
        "device": args.device,
        "schedule": args.schedule,
        "weight_decay": args.weight_decay,
        "grad_clip": args.grad_clip,
        "l1": args.l1,
        "l2": args.l2,
        "momentum": args.momentum,
    }
    settings = TrainingSettings().replace(**{k: v for k, v in changes.items() if v is not None})
    if args.early_stopping is not None:
        settings = settings.replace(early_stopping=True, patience=args.early_stopping)
    return settings


def _stop_on_interrupt(control):
    """The first Ctrl-C ends training after the current step and keeps what was
    learnt; a second one should not have to wait, so it interrupts at once."""

    def handler(signum, frame):
        control.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    return handler


def _run_training(spec, dataset, settings, quiet: bool):
    """Train, drawing progress; returns (terminal event, device name)."""
    from playground.core.control import RunControl
    from playground.core.events import EpochMetrics, Failed, Finished, RunStarted, StepMetrics, Stopped
    from playground.core.trainer import Trainer

    control = RunControl()
    previous = signal.signal(signal.SIGINT, _stop_on_interrupt(control))
    progress = _Progress(settings.epochs, quiet)
    trainer = Trainer(spec, dataset, settings)
    terminal = None
    device = "?"
    try:
        for event in trainer.run(control):
            if isinstance(event, StepMetrics):
                progress.step(event)
            elif isinstance(event, EpochMetrics):
                progress.epoch(event)
            elif isinstance(event, RunStarted):
                device = event.device
            elif isinstance(event, (Finished, Stopped, Failed)):
                terminal = event
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.close()
    return terminal, device


def cmd_train(args) -> int:
    from playground.core.compat import check_training, early_check_device
    from playground.core.events import Failed, Finished, Stopped

    _check_outputs(args)
    spec = _load_spec(args.spec)
    settings = _settings_from_args(args)
    name, options, dataset = _dataset_from_args(args)
    # a clear line before torch loads; the trainer checks a GPU's memory itself
    check_training(spec, dataset, settings, early_check_device(settings.device))
    for warning in getattr(dataset, "warnings", []) or []:
        print(f"warning: {warning}", file=sys.stderr)

    import torch  # noqa: F401  (loaded here, after every cheap check passed)

    terminal, device = _run_training(spec, dataset, settings, args.quiet)
    summary = terminal.summary
    status = (
        terminal.reason if isinstance(terminal, Finished)
        else "stopped" if isinstance(terminal, Stopped) else "failed"
    )
    if args.metrics_json:
        payload = _metrics_payload(status, name, device, summary)
        if isinstance(terminal, Failed):
            payload["error"] = terminal.message
        _write_output("--metrics-json", args.metrics_json, _write_json_atomic, payload)
    if args.out and summary is not None and summary.state_dict:
        _write_output(
            "--out", args.out, _write_model, spec, name, options, settings, summary, status, terminal
        )
    if isinstance(terminal, Failed):
        raise CommandError(terminal.message)
    print(_result_line(status, summary, device))
    return 0 if isinstance(terminal, Finished) else 130


def _metrics_payload(status, name, device, summary) -> dict:
    return {
        "status": status,
        "dataset": name,
        "device": device,
        "history": [m.as_dict() for m in summary.history] if summary else [],
        "final": summary.final_metrics() if summary else {},
        "best_epoch": summary.best_epoch if summary else 0,
        "examples_per_second": summary.examples_per_second if summary else 0.0,
    }


def _result_line(status, summary, device) -> str:
    final = summary.final_metrics()
    parts = [f"{k} {v:.4f}" for k, v in final.items() if k != "epoch"]
    return (
        f"{status} after {summary.epochs_completed} epoch{'' if summary.epochs_completed == 1 else 's'}"
        + (f" (best epoch {summary.best_epoch})" if summary.best_epoch else "")
        + (": " + ", ".join(parts) if parts else "")
        + f"; {summary.examples_per_second:,.0f} examples/s on {device}"
    )


def _write_output(option: str, path, write, *payload) -> None:
    """The folder was checked before training, but it can vanish or fill up
    since; the message names the user's file, not the temporary one."""
    try:
        write(path, *payload)
    except OSError as exc:
        raise CommandError(f"cannot write {option} '{path}': {exc.strerror or exc}") from exc


def _replace_atomic(path: Path, write_tmp) -> None:
    from playground.core.atomic import atomic_path

    with atomic_path(path) as tmp:
        write_tmp(tmp)


def _write_json_atomic(path, payload) -> None:
    def write(tmp):
        with open(tmp, "w") as fh:
            json.dump(payload, fh, indent=2)

    _replace_atomic(Path(path), write)


def _write_model(out, spec, name, options, settings, summary, status, terminal) -> None:
    out = Path(out)
    if out.suffix.lower() == ".safetensors":
        from safetensors.numpy import save_file

        metadata = {"playground-network": spec.to_json()}
        _replace_atomic(out, lambda tmp: save_file(dict(summary.state_dict), tmp, metadata=metadata))
    else:
        from playground.core.project import Project, run_from_summary, save_project

        project = Project(spec=spec, dataset_name=name, dataset_options=options, settings=settings)
        message = terminal.message if hasattr(terminal, "message") else ""
        project.runs.append(run_from_summary(project, summary, status, message))
        save_project(project, out)
    print(f"saved {out}", file=sys.stderr)


# -- filter -----------------------------------------------------------------------
_FILTER_EPILOG = """\
IMAGE is an image file pillow reads, or a sample image: camera, chelsea,
checkerboard, text, digit. The kernel is a preset name (identity, box-blur,
gaussian-3x3, gaussian-5x5, sharpen, laplacian-4, laplacian-8, sobel-x, sobel-y,
prewitt-x, prewitt-y, emboss, outline, lighten, darken, random) or a square JSON
matrix up to 7x7, e.g. --kernel '[[0,1,0],[1,-4,1],[0,1,0]]'. It is applied to
each colour channel on its own, as a cross-correlation (not flipped), like
torch's conv2d.

Without --out, a summary: sizes, the output-size formula with the numbers
filled in, the value range. --out FILE.npy saves the float output
(channels, height, width); --out FILE.png saves a picture: for kernels whose
weights add up to about 0 (edges: sobel, laplacian, outline), and for any
output with negative values, the output is shown around middle gray, 0 -> 128
and the largest absolute value -> 0 or 255; otherwise values are clipped to
0..1 and scaled to 0..255.

example: playground filter checkerboard --kernel sobel-x --padding same
"""


def _filter_padding(text: str):
    lowered = text.strip().lower()
    if lowered in ("same", "valid"):
        return lowered
    try:
        return int(lowered)
    except ValueError:
        raise CommandError(
            f"--padding expects a whole number, 'same' or 'valid', not {text!r}"
        ) from None


def _filter_image(name: str, gray: bool):
    from playground.core.filters.images import (
        SAMPLE_IMAGES,
        ImageLoadError,
        load_image,
        load_sample,
        sample_key,
    )

    mode = "gray" if gray else "auto"
    path = Path(name)
    if not path.exists():
        # a file of that name wins; otherwise a sample's name means the sample
        if sample_key(name) is not None:
            return load_sample(name, mode)
        raise ImageLoadError(
            f"{name}: no such file (sample images: {', '.join(SAMPLE_IMAGES)})"
        )
    return load_image(path, mode=mode, name=name)


def _can_print(text: str) -> bool:
    try:
        text.encode(sys.stdout.encoding or "ascii")
        return True
    except (UnicodeEncodeError, LookupError):
        return False


def _filter_summary(image, kernel, label, settings, steps, out) -> str:
    import numpy as np

    from playground.core.filters.convolution import formula_text
    from playground.core.filters.kernels import format_kernel, format_number

    unicode = _can_print("·⌊⌋")
    channels, height, width = image.array.shape
    size = kernel.shape[-1]
    colour = "gray" if channels == 1 else "RGB"
    total = format_number(kernel.sum())
    operation = (
        f"Stride {settings.stride}, padding {settings.padding} "
        f"({settings.padding_mode}), dilation {settings.dilation}"
    )
    across = formula_text(width, size, settings, unicode=unicode)
    down = formula_text(height, size, settings, unicode=unicode, symbol="H")
    finite = out[np.isfinite(out)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0, 0)
    shape = "x".join(str(n) for n in out.shape)
    source = f"{width}x{height} {colour} (pillow mode {image.original_mode})"
    values = f"values {format_number(low)} to {format_number(high)}"
    return "\n".join(
        [
            f"{image.name}: {source}.",
            f"{label} ({size}x{size}, sum {total}): {format_kernel(kernel)}.",
            "".join([operation, *(f", then {step}" for step in steps), "."]),
            f"Output width: {across}.",
            "Output height: the same." if height == width else f"Output height: {down}.",
            f"Output {shape} (channels x height x width), {values}.",
        ]
    )


def _save_filter_output(path, out, symmetric: bool) -> None:
    import numpy as np

    path = Path(path)
    if path.suffix.lower() == ".npy":
        data = np.ascontiguousarray(out)

        def write(tmp):
            np.save(tmp, data, allow_pickle=False)
    else:
        from PIL import Image

        from playground.core.filters.images import image_uint8

        picture = Image.fromarray(image_uint8(out, symmetric))

        def write(tmp):
            picture.save(tmp, format="PNG")

    _replace_atomic(path, write)


def cmd_filter(args) -> int:
    import numpy as np

    from playground.core.filters.convolution import (
        ConvSettings,
        ConvSettingsError,
        canonical_activation,
        pipeline_shape,
        run_pipeline,
    )
    from playground.core.filters.images import ImageLoadError
    from playground.core.filters.kernels import (
        KernelError,
        canonical_name,
        is_preset,
        is_zero_sum,
        normalise_kernel,
        parse_kernel,
    )

    if args.out:
        if Path(args.out).suffix.lower() not in (".png", ".npy"):
            raise CommandError(
                "--out must end in .png (a picture) or .npy (the float values)"
            )
        _check_writable("--out", args.out)
    padding = _filter_padding(args.padding)
    pool_stride = args.pool_size if args.pool_stride is None else args.pool_stride
    try:
        activation = canonical_activation(args.activation)
        kernel = parse_kernel(args.kernel, seed=args.seed)
        label = (
            f"Kernel '{canonical_name(args.kernel)}'"
            if is_preset(args.kernel)
            else "Custom kernel"
        )
        if args.normalise:
            kernel = normalise_kernel(kernel)
        settings = ConvSettings(
            stride=args.stride,
            padding=padding,
            padding_mode=args.padding_mode,
            dilation=args.dilation,
        )
        image = _filter_image(args.image, args.gray)
        # every setting checked before torch loads
        pipeline_shape(
            image.array.shape,
            kernel.shape,
            settings,
            args.pool,
            args.pool_size,
            pool_stride,
        )
        out = run_pipeline(
            image.array,
            kernel,
            settings,
            activation=activation,
            pool_kind=args.pool,
            pool_size=args.pool_size,
            pool_stride=pool_stride,
        )
    except (KernelError, ConvSettingsError, ImageLoadError) as exc:
        raise CommandError(str(exc)) from exc
    if args.out:
        # A negative kernel (e.g. [[-1]]) clipped to 0..1 would save all black.
        signed = is_zero_sum(kernel) or bool(np.nanmin(out) < 0)
        _write_output("--out", args.out, _save_filter_output, out, signed)
        print(f"saved {args.out}", file=sys.stderr)
    else:
        steps = [activation] if activation != "none" else []
        if args.pool:
            size = args.pool_size
            steps.append(f"{args.pool} pooling {size}x{size} stride {pool_stride}")
        print(_filter_summary(image, kernel, label, settings, steps, out))
    return 0


# -- predict and export -----------------------------------------------------------
def _open_project(path):
    """The project file named on the command line, or a one-line error."""
    from playground.core.project import load_project

    where = f"cannot open project '{path}'"
    if Path(path).is_dir():
        raise CommandError(f"{where}: it is a folder, not a project file")
    if not Path(path).exists():
        raise CommandError(f"{where}: no such file")
    return load_project(path)


def _pick_run(project, args):
    """The run --run names, by default the newest with weights (no torch)."""
    from playground.core.export import ExportError, pick_run

    try:
        return pick_run(project, args.run, Path(args.file).name)
    except ExportError as exc:
        raise CommandError(str(exc)) from exc


def _trained(project, record, args):
    """The run's weights checked against its network, ready to build."""
    from playground.core.export import ExportError, from_project

    try:
        return from_project(project, record, Path(args.file).name)
    except ExportError as exc:
        raise CommandError(str(exc)) from exc


def _read_input_array(path):
    import numpy as np

    where = f"cannot read --input '{path}'"
    if Path(path).suffix.lower() != ".npy":
        raise CommandError(f"{where}: give one numpy array saved as .npy")
    if not Path(path).is_file():
        raise CommandError(f"{where}: no such file")
    try:
        # allow_pickle=False: an object array would unpickle, which can run code
        x = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise CommandError(f"{where}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CommandError(f"{where}: {exc}") from exc
    if x.dtype.kind not in "biuf":
        raise CommandError(f"{where}: it holds {x.dtype} values, not numbers")
    return x


def _batch_of(x, input_shape, path):
    """(batch, *input_shape) inputs and whether one example came without its
    batch dimension (its output then comes back without one too)."""
    shape = tuple(input_shape)
    if tuple(x.shape) == shape:
        return x[None], True
    if tuple(x.shape[1:]) == shape:
        return x, False
    one, many = _shape(shape), _shape(("N", *shape))
    raise CommandError(
        f"--input '{path}' has shape {_shape(x.shape)}, but the network takes "
        f"{one} per example: give an array {one} (one example) or {many}"
    )


def _predicted_classes(trained, out) -> str:
    """'predicted classes: 1 0 2 ...' for a classifier (the first 20), else ''."""
    from playground.core.datasets import DatasetError, get_info

    history = getattr(trained.run, "history", None) or []
    if history:
        classification = "val_accuracy" in history[-1]
    else:
        try:
            classification = get_info(trained.dataset_name).task == "classification"
        except DatasetError:
            classification = False
    if not classification or out.ndim != 2 or not len(out):
        return ""
    # one logit: class 1 when it is positive (as the trainer predicts)
    classes = (out[:, 0] > 0).astype(int) if out.shape[1] == 1 else out.argmax(1)
    shown = " ".join(str(c) for c in classes[:20])
    more = f" ... ({len(classes)} in all)" if len(classes) > 20 else ""
    return f"predicted classes: {shown}{more}"


def cmd_predict(args) -> int:
    import numpy as np

    if Path(args.output).suffix.lower() != ".npy":
        raise CommandError("--output must end in .npy")
    _check_writable("--output", args.output)
    x = _read_input_array(args.input)
    project = _open_project(args.file)
    record = _pick_run(project, args)
    # the network the run trained (projects may keep one per run)
    spec = getattr(record, "spec", None) or project.spec
    batch, single = _batch_of(x, spec.input_shape, args.input)
    trained = _trained(project, record, args)

    import torch

    model = trained.build()
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    with torch.no_grad():
        # (batch, *input_shape) -> (batch, outputs), a chunk at a time; an empty
        # batch still gives the outputs' shape
        out = np.concatenate(
            [
                model(torch.from_numpy(batch[i : i + 1024])).numpy()
                for i in range(0, max(len(batch), 1), 1024)
            ]
        )
    classes = _predicted_classes(trained, out)
    result = out[0] if single else out

    def save(tmp):
        np.save(tmp, result, allow_pickle=False)

    _write_output("--output", args.output, _replace_atomic, save)
    print(
        f"wrote {args.output}: outputs {_shape(result.shape)} of run "
        f"'{trained.run_name}'"
    )
    if classes:
        print(classes)
    return 0


def cmd_export(args) -> int:
    from playground.core.export import ExportError, check_out_path

    try:
        check_out_path(args.format, args.out)
    except ExportError as exc:
        raise CommandError(f"--out {exc}") from exc
    _check_writable("--out", args.out)
    project = _open_project(args.file)
    trained = _trained(project, _pick_run(project, args), args)
    try:
        result = _export(trained, args)
    except ExportError as exc:
        raise CommandError(str(exc)) from exc
    for path in result.paths:
        print(f"wrote {path}", file=sys.stderr)
    if not result.ok:
        raise CommandError(
            f"{args.format} export of run '{trained.run_name}': {result.message}"
        )
    print(f"{args.format} export of run '{trained.run_name}' {result.message}")
    return 0


def _export(trained, args):
    from playground.core.export import export_model

    try:
        return export_model(trained, args.format, args.out)
    except OSError as exc:
        # the folder was checked, but a companion file (model.json, the
        # script's data) or a full disk can still fail
        name = exc.filename or args.out
        raise CommandError(f"cannot write '{name}': {exc.strerror or exc}") from exc


# -- gui and self-test ---------------------------------------------------------------
def _check_display(file=None) -> None:
    """Without a display Qt aborts the interpreter (exit 134) with a screenful
    about platform plugins; say what is wrong in one line before it loads."""
    if not sys.platform.startswith("linux"):
        return
    if any(os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return
    import shlex

    command = "playground" + (f" gui {shlex.quote(file)}" if file else "")
    raise CommandError(
        "no display found (DISPLAY is not set); run it from a desktop session, "
        f"or under a virtual one: xvfb-run -a {command}"
    )


def cmd_gui(args) -> int:
    if args.file:
        where = f"cannot open project '{args.file}'"
        if Path(args.file).is_dir():
            raise CommandError(f"{where}: it is a folder, not a project file")
        if not Path(args.file).exists():
            raise CommandError(f"{where}: no such file")
    _check_display(args.file)
    from playground.gui.app import run_gui

    return run_gui(args.file, t0=_T0)


def cmd_self_test(args) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from playground.gui.self_test import run_self_test

    return run_self_test()


# -- parser ----------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit 2. argparse builds subparsers with the
    parent's class, so `playground train` errors come through here too."""

    def error(self, message):
        message = " ".join(message.split())
        self.exit(2, f"playground: error: {message} (see '{self.prog} --help')\n")


def _common_options() -> argparse.ArgumentParser:
    # SUPPRESS: a subcommand that was not given --debug must not reset the
    # value `playground --debug COMMAND` set.
    common = _Parser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return common


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="playground",
        description="Neural Playground: build, train, look inside and export neural networks.",
    )
    p.add_argument("--version", action="version", version=f"Neural Playground {__version__}")
    p.add_argument("--self-test", action="store_true", help="open the window offscreen, visit every tab, train a tiny model, exit 0 when all works")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    p.commands = sub.choices  # for _parse: an unknown option is the subcommand's error
    common = [_common_options()]

    g = sub.add_parser("gui", help="open the app (the default)", parents=common)
    g.add_argument("file", nargs="?", help="a project file (.npg) to open")
    g.set_defaults(func=cmd_gui)

    d = sub.add_parser("datasets", help="list the datasets", parents=common)
    d.add_argument("--json", action="store_true")
    d.set_defaults(func=cmd_datasets)

    s = sub.add_parser("summary", help="layers, output shapes and parameter counts of a network", parents=common)
    s.add_argument("spec", metavar="SPEC", help="network spec (JSON)")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summary)

    t = sub.add_parser("train", help="train headless with a progress bar", parents=common)
    t.add_argument("spec", metavar="SPEC", help="network spec (JSON)")
    t.add_argument("--dataset", required=True, metavar="NAME", help="a dataset name (see `playground datasets`), a CSV file or an image folder")
    t.add_argument("--data-option", action="append", metavar="KEY=VALUE", help="dataset option, e.g. noise=20 (repeatable)")
    t.add_argument("--target", metavar="COLUMN", help="target column of a CSV file")
    t.add_argument("--epochs", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float, help="learning rate")
    t.add_argument("--optimizer", metavar="NAME", help="sgd, momentum, nesterov, adagrad, rmsprop, adam, adamw")
    t.add_argument("--loss", metavar="NAME", help="auto, cross_entropy, bce_with_logits, hinge, mse, l1, huber")
    t.add_argument("--schedule", metavar="NAME", help="constant, step, cosine, onecycle")
    t.add_argument("--momentum", type=float)
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--l1", type=float, help="L1 penalty on weights")
    t.add_argument("--l2", type=float, help="L2 penalty on weights")
    t.add_argument("--grad-clip", type=float, help="clip the gradient norm to this")
    t.add_argument("--early-stopping", type=int, metavar="PATIENCE", help="stop after this many epochs without a better validation loss")
    t.add_argument("--seed", type=int)
    t.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"])
    t.add_argument("--metrics-json", metavar="FILE")
    t.add_argument("--out", metavar="FILE", help="save the trained model: FILE.npg (project) or FILE.safetensors")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.set_defaults(func=cmd_train)

    f = sub.add_parser(
        "filter",
        help="apply a convolution kernel to an image",
        parents=common,
        description="Apply a convolution kernel to an image, as the filter lab does.",
        epilog=_FILTER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("image", metavar="IMAGE", help="an image file or a sample's name")
    f.add_argument(
        "--kernel", required=True, metavar="NAME|JSON",
        help="a preset name or a JSON matrix",
    )
    f.add_argument("--seed", type=int, help="seed of the random kernel")
    f.add_argument("--stride", type=int, default=1)
    f.add_argument(
        "--padding", default="0", metavar="N|same|valid",
        help="pixels added on every side (default 0)",
    )
    f.add_argument(
        "--padding-mode", default="zeros",
        choices=["zeros", "reflect", "replicate", "circular"],
    )
    f.add_argument("--dilation", type=int, default=1)
    f.add_argument("--gray", action="store_true", help="make a colour image gray first")
    f.add_argument(
        "--normalise", "--normalize", action="store_true",
        help="scale the kernel to sum 1 (edge kernels: absolute values to sum 1)",
    )
    f.add_argument(
        "--activation", default="none", metavar="NAME",
        help="none, relu, leaky-relu, sigmoid, tanh, abs",
    )
    f.add_argument("--pool", choices=["max", "avg"], help="pool after the convolution")
    f.add_argument("--pool-size", type=int, default=2)
    f.add_argument("--pool-stride", type=int, help="default: the pool size")
    f.add_argument(
        "--out", metavar="FILE",
        help="save the output: FILE.png (a picture) or FILE.npy (float values)",
    )
    f.set_defaults(func=cmd_filter)

    pr = sub.add_parser(
        "predict",
        help="run a trained model on a numpy array of inputs",
        parents=common,
        description="Run a project's trained model on inputs shaped like the "
        "network's (one example, or a batch with the examples first) and save its "
        "outputs.",
    )
    run_help = "which run's weights (default: the newest that kept them)"
    pr.add_argument("file", metavar="FILE.npg", help="a project with a trained run")
    pr.add_argument("--input", required=True, metavar="X.npy", help="the inputs")
    pr.add_argument(
        "--output", required=True, metavar="Y.npy", help="where the outputs go"
    )
    pr.add_argument("--run", metavar="NAME", help=run_help)
    pr.set_defaults(func=cmd_predict)

    e = sub.add_parser(
        "export",
        help="export a trained model, then check the file against it",
        parents=common,
        description="Write a project's trained model as ONNX, TorchScript, "
        "safetensors (weights plus the network as JSON) or a standalone PyTorch "
        "training script, load it back and compare its outputs with the trained "
        "model's. Exits 1 when they differ.",
    )
    e.add_argument("file", metavar="FILE.npg", help="a project with a trained run")
    e.add_argument(
        "--format", required=True,
        choices=["onnx", "torchscript", "safetensors", "python"],
    )
    e.add_argument(
        "--out", required=True, metavar="PATH",
        help="FILE.onnx, FILE.pt, FILE.safetensors or FILE.py",
    )
    e.add_argument("--run", metavar="NAME", help=run_help)
    e.set_defaults(func=cmd_export)
    return p


def _known_errors():
    from playground.core.compat import CompatibilityError
    from playground.core.datasets import DatasetError
    from playground.core.devices import DeviceError
    from playground.core.project import ProjectError
    from playground.core.settings import SettingsError
    from playground.core.spec import SpecError

    return (
        CommandError, CompatibilityError, DatasetError, DeviceError, ProjectError,
        SettingsError, SpecError, OSError,
    )


def _with_default_command(argv) -> list[str]:
    """`playground lesson.npg` means `playground gui lesson.npg` (what a file
    manager's "open with" runs)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    for i, arg in enumerate(argv):
        if arg.startswith("-"):
            continue  # top-level options take no values
        if arg.lower().endswith(".npg"):
            argv.insert(i, "gui")
        break
    return argv


def _parse(argv):
    parser = build_parser()
    args, extra = parser.parse_known_args(_with_default_command(argv))
    if extra:
        # parse_args would blame the top-level parser; point at the right --help.
        owner = parser.commands.get(args.command, parser)
        owner.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _dispatch(args) -> int:
    if args.self_test:
        return cmd_self_test(args)
    if args.command is None:
        args.file = None
        return cmd_gui(args)
    return args.func(args)


def _error_line(exc) -> str:
    if isinstance(exc, _known_errors()):
        message = str(exc)
    else:
        message = f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)"
    return "playground: error: " + " ".join(message.split())


def main(argv=None) -> int:
    debug = False
    try:
        args = _parse(argv)
        debug = args.debug
        return _dispatch(args)
    except KeyboardInterrupt:
        # Ctrl-C can land anywhere, e.g. while torch loads for half a minute.
        if debug:
            raise
        print("playground: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader left (`playground datasets | head -1`): not an error to
        # report. Point stdout at nothing so the exit flush stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if debug:
            raise
        print(_error_line(exc), file=sys.stderr)
        return 1
