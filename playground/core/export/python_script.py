"""A standalone training script: plain PyTorch, no Neural Playground needed.

The script holds the network as an nn.Module class, the data (generated, or
read from an .npz file written beside it), the run's optimizer, loss,
schedule and hyperparameters, and a training loop that runs as
`python train.py` and as `torchrun --nproc_per_node=N train.py` (DDP). Only
what the run used is written: a script for Adam without a schedule has no
scheduler code to read past.

Verification imports the written file, loads the run's weights into its Net
through its own name map and compares its outputs with the app's model's;
its load_data() must give the very arrays the run trained on.
"""

from __future__ import annotations

import importlib.util
import pprint
import sys
import uuid
from pathlib import Path

import numpy as np

from playground.core.atomic import write_text
from playground.core.export import script_data
from playground.core.export.errors import ExportError
from playground.core.export.script_model import model_code
from playground.core.export.script_parts import (
    HEADER,
    NAMES,
    SCHEDULERS,
    TRAINING,
    backward,
    early_stopping,
    fill,
    loss_block,
    optimizer_block,
    settings_block,
)
from playground.core.export.verify import (
    VerifyResult,
    failed,
    first_line,
    outputs,
    result,
)


def script_text(trained, ds, file_name: str, data_name: str | None) -> str:
    """The whole script. ``ds``: the run's dataset; ``data_name``: the .npz
    beside the script, or None when the data is generated in it."""
    from playground import __version__
    from playground.core.compat import resolve_loss
    from playground.core.export.weights_import import expected_weights
    from playground.core.settings import TrainingSettings
    from playground.core.shapes import infer_shapes

    spec = trained.spec
    s = getattr(trained.run, "settings", None) or TrainingSettings()
    classification = ds.task == "classification"
    # "auto" depends on the network's outputs: one logit for two classes is BCE
    outputs_count = infer_shapes(spec).output_shape[0]
    loss = resolve_loss(s.loss, ds.task, outputs_count, ds.num_classes)
    code = model_code(spec, expected_weights(spec))
    settings = settings_block(s, loss)
    if classification and loss in ("mse", "l1", "huber"):
        settings += f"\nNUM_CLASSES = {ds.num_classes}"
    header = fill(HEADER, {
        "@TITLE@": spec.name or "the network",
        "@DATASET@": ds.name,
        "@VERSION@": __version__,
        "@RUN@": trained.run_name,
        "@FILE@": file_name,
        "@SETTINGS@": settings,
        # only the data file is found by path
        "@PATH_IMPORT@": "" if data_name is None else "from pathlib import Path",
    })
    names = fill(NAMES, {
        "@APP_NAMES@": "{\n"
        + "".join(f'    "{k}": "{v}",\n' for k, v in code.app_names.items())
        + "}",
        "@SPEC@": pprint.pformat(spec.to_dict(), width=80, sort_dicts=False),
    })
    if data_name is None:
        data = script_data.generated_section(ds)
    else:
        data = script_data.file_section(ds, data_name)
    scheduler = ""
    step = ""
    if s.schedule in SCHEDULERS:
        scheduler = (
            "    # optimizer steps per epoch on this process, for the schedule\n"
            "    steps = steps_per_epoch(len(sampler) if distributed else n, "
            "args.batch_size)\n"
            f"    scheduler = {SCHEDULERS[s.schedule]}"
        )
        step = "            scheduler.step()"
    early_init, early_step, early_end = early_stopping(s)
    training = fill(TRAINING, {
        "@ACC_DOC@": " and accuracy" if classification else "",
        "@ACC_COUNT@": (
            "        right += int((predict(out) == labels[i : i + EVAL_CHUNK]).sum())"
            if classification else ""
        ),
        "@MAKE_SCHEDULER@": scheduler,
        "@SCHEDULER_STEP@": step,
        "@BACKWARD@": backward(s),
        "@EARLY_INIT@": early_init,
        "@EARLY_STEP@": early_step,
        "@EARLY_END@": early_end,
        "@ACC_PRINT@": "  val_acc {val_accuracy:.3f}" if classification else "",
    })
    sections = [
        header.rstrip("\n"),
        "# -- the network " + "-" * 63 + "\n"
        + code.source.rstrip("\n"),
        names.rstrip("\n"),
        data.rstrip("\n"),
        loss_block(loss, classification).rstrip("\n")
        + optimizer_block(s).rstrip("\n"),
        training.rstrip("\n"),
    ]
    return "\n\n\n".join(sections) + "\n"


def _import_script(path: Path):
    """The written script as a module (its main() does not run on import)."""
    name = f"_playground_export_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickle-free torch code look it up
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def export(trained, path: Path):
    import torch

    ds = trained.dataset()
    if ds is None:
        raise ExportError(
            "the Python script needs the run's data, which cannot be loaded: "
            f"{trained.dataset_problem}"
        )
    path = Path(path)
    generated = script_data.is_generated(ds.name)
    paths = [path]
    if not generated:
        data_path = script_data.data_file(path)
        script_data.write_data_file(ds, data_path)
        paths.append(data_path)
    text = script_text(trained, ds, path.name, None if generated else paths[-1].name)
    write_text(path, text)

    x, what = trained.reference_inputs()
    expected = outputs(trained.build(), x)
    try:
        module = _import_script(path)
        data = module.load_data()
        net = module.Net()
        state = {k: torch.from_numpy(v) for k, v in trained.weights.items()}
        net.load_state_dict(module.from_app_names(state))
        got = outputs(net.eval(), x)
    except Exception as exc:
        return failed("python", paths, first_line(exc))
    # the data section is checked too: the script must train on the app's data
    app_data = (ds.x_train, ds.y_train, ds.x_val, ds.y_val)
    if not all(
        np.shape(a) == np.shape(b) and np.array_equal(a, b)
        for a, b in zip(data, app_data, strict=True)
    ):
        return VerifyResult(
            "python", tuple(paths), float("nan"), False,
            "NOT verified: the script's data differ from the data the run "
            "trained on",
        )
    return result("python", paths, expected, got, what, "data identical")
