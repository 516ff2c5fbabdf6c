"""ONNX: one file for onnxruntime, phones and browsers (opset 18, any batch).

The input is named "input" and the output "output"; the batch dimension is
dynamic, every other dimension is the network's. The weights live inside the
file (no external .data file beside it).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.core.atomic import atomic_path
from playground.core.export.errors import ExportError
from playground.core.export.verify import failed, first_line, outputs, quietly, result

OPSET = 18  # the dynamo exporter's own opset; 17 or newer is what was asked
INPUT, OUTPUT = "input", "output"
INSTALL = (
    "ONNX export needs onnx, onnxruntime and onnxscript: "
    "pip install 'neural-playground[export]'"
)


def _need_onnx() -> None:
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"{INSTALL} ({exc})") from None


def _export_dynamo(model, example, tmp: str) -> None:
    """torch.export-based exporter: PyTorch's default since 2.9, the one that
    is maintained. It needs onnxscript."""
    import torch

    batch = torch.export.Dim("batch", min=1)
    torch.onnx.export(
        model,
        (example,),
        tmp,
        input_names=[INPUT],
        output_names=[OUTPUT],
        dynamic_shapes=({0: batch},),
        opset_version=OPSET,
        dynamo=True,
        # small models: one self-contained file, no model.onnx.data beside it
        external_data=False,
        verbose=False,
    )


def _export_torchscript_based(model, example, tmp: str) -> None:
    """The older TorchScript-based exporter: a fallback for when onnxscript is
    missing or the dynamo exporter cannot handle a model."""
    import torch

    torch.onnx.export(
        model,
        (example,),
        tmp,
        input_names=[INPUT],
        output_names=[OUTPUT],
        dynamic_axes={INPUT: {0: "batch"}, OUTPUT: {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )


def write_onnx(model, example, path: Path) -> str:
    """Write ``model`` to ``path`` atomically; returns which exporter did it."""
    import torch

    problems = []
    for name, write in (
        ("dynamo", _export_dynamo),
        ("torchscript-based", _export_torchscript_based),
    ):
        try:
            with atomic_path(path) as tmp, quietly(), torch.no_grad():
                write(model, torch.from_numpy(example), tmp)
            return name
        except OSError:
            raise
        except Exception as exc:  # try the next exporter, keep the reason
            problems.append(f"{name} exporter: {first_line(exc)}")
    raise ExportError("cannot export to ONNX: " + "; ".join(problems))


def onnx_session(path: Path):
    """An onnxruntime session (CPU) for the file, its names checked."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: no notes on stderr
    options.intra_op_num_threads = 1  # a 64-example check; no thread pool spin
    session = ort.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    inputs = [i.name for i in session.get_inputs()]
    outputs_ = [o.name for o in session.get_outputs()]
    if (inputs, outputs_) != ([INPUT], [OUTPUT]):
        raise ExportError(
            f"the file's inputs are {inputs} and outputs {outputs_}, not "
            f"[{INPUT!r}] and [{OUTPUT!r}]"
        )
    return session


def export(trained, path: Path):
    _need_onnx()
    x, what = trained.reference_inputs()
    # from a model of its own: nothing the exporter does can touch the reference
    expected = outputs(trained.build(), x)
    # an example of two, so the exporter cannot take the batch for a constant 1
    example = x[:2] if len(x) >= 2 else np.concatenate([x, x])
    how = write_onnx(trained.build(), example, path)
    try:
        session = onnx_session(path)
        # (n, outputs), then (1, outputs): the batch size is free
        got = np.concatenate(
            [session.run([OUTPUT], {INPUT: batch})[0] for batch in (x, x[:1])]
        )
    except Exception as exc:
        return failed("onnx", [path], first_line(exc))
    want = np.concatenate([expected, expected[:1]])
    return result(
        "onnx", [path], want, got, what, f"opset {OPSET if how == 'dynamo' else 17}"
    )
