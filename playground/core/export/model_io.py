"""A trained model out of a project file: the network spec plus one run's
weights, checked against each other, and the data the run trained on.

Choosing the run needs no torch, so a wrong run name is answered before
torch loads; checking the weights builds the network on torch's meta device
(names and shapes, no memory).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from playground.core.export.errors import ExportError

REFERENCE_EXAMPLES = 64  # inputs an export is compared on


def model_with_weights(spec, weights: dict[str, np.ndarray]):
    """A new torch module for ``spec`` holding copies of ``weights`` (checked
    names and shapes), in eval mode.

    Built on the meta device and given the weights as its tensors: no random
    initialisation to pay for and throw away, and the caller's random state
    is left alone."""
    import torch

    from playground.core.builder import build_model

    with torch.device("meta"):
        model = build_model(spec)
    # torch.tensor copies: the module never shares memory with ``weights``
    state = {k: torch.tensor(v) for k, v in weights.items()}
    model.load_state_dict(state, assign=True)
    return model.eval()


def pick_run(project, name: str | None, where: str):
    """The run called ``name``, or the newest run with weights."""
    if not project.runs:
        raise ExportError(
            f"{where} has no trained runs: train it first (press Train in the app, "
            "or `playground train SPEC --dataset NAME --out FILE.npg`)"
        )
    names = ", ".join(r.name for r in project.runs)
    if name is None:
        kept = [(r.created, i, r) for i, r in enumerate(project.runs) if r.weights]
        if not kept:
            raise ExportError(
                f"no run in {where} kept its weights (runs: {names}); train it again"
            )
        return max(kept, key=lambda t: t[:2])[2]
    for run in project.runs:
        if run.name == name:
            if not run.weights:
                raise ExportError(
                    f"run '{name}' in {where} has no weights (it ended before "
                    f"its first step?); runs: {names}"
                )
            return run
    raise ExportError(f"no run named '{name}' in {where}; its runs are: {names}")


@dataclass
class TrainedModel:
    """A network and the weights of one run, ready to build and export."""

    spec: object  # NetworkSpec
    # checked against spec: names, shapes, dtypes
    weights: dict[str, np.ndarray] = field(repr=False)
    run: object = field(repr=False)  # RunRecord
    source: str = ""  # the project's file name, for messages
    dataset_name: str = ""
    dataset_options: dict = field(default_factory=dict)
    _dataset: object = field(default=None, repr=False, compare=False)
    _dataset_problem: str | None = field(default=None, repr=False, compare=False)

    @property
    def run_name(self) -> str:
        return getattr(self.run, "name", "")

    def build(self):
        """A fresh torch module holding the weights, in eval mode (dropout
        off, BatchNorm on its running statistics): what every export holds."""
        return model_with_weights(self.spec, self.weights)

    def dataset(self):
        """The run's dataset, or None when it cannot be made again (a CSV file
        that has moved); dataset_problem then says why."""
        if self._dataset is None and self._dataset_problem is None:
            from playground.core.datasets import get_dataset

            try:
                ds = get_dataset(self.dataset_name, **self.dataset_options)
            except ValueError as exc:  # DatasetError, or a damaged file's error
                self._dataset_problem = str(exc)
            except OSError as exc:
                self._dataset_problem = f"{self.dataset_name}: {exc.strerror or exc}"
            else:
                if tuple(ds.input_shape) != tuple(self.spec.input_shape):
                    self._dataset_problem = (
                        f"'{self.dataset_name}' gives inputs {list(ds.input_shape)}, "
                        f"the network takes {list(self.spec.input_shape)}"
                    )
                else:
                    self._dataset = ds
        return self._dataset

    @property
    def dataset_problem(self) -> str | None:
        self.dataset()
        return self._dataset_problem

    def reference_inputs(self, n: int = REFERENCE_EXAMPLES) -> tuple[np.ndarray, str]:
        """Inputs to compare an export on, and what they are: the first ``n``
        validation examples (training ones if there are too few), or seeded
        random values when the dataset is gone."""
        ds = self.dataset()
        if ds is not None:
            x = ds.x_val[:n]
            what = f"{len(x)} validation examples of '{ds.name}'"
            if len(x) < n and len(ds.x_train):
                val = len(x)
                x = np.concatenate([x, ds.x_train[: n - len(x)]])
                what = (
                    f"{len(x)} examples of '{ds.name}' ({val} validation, "
                    f"{len(x) - val} training)"
                )
            if len(x):
                return np.ascontiguousarray(x, dtype=np.float32), what
        rng = np.random.default_rng(0)
        # (n, *input_shape)
        x = rng.standard_normal((n, *self.spec.input_shape)).astype(np.float32)
        return x, f"{n} random inputs ({self._dataset_problem or 'no examples'})"


def load_trained(path, run: str | None = None) -> TrainedModel:
    """The trained model of a project file: ``run`` by name, by default the
    newest run with weights. Raises ProjectError for an unreadable file and
    ExportError (one line) for a missing run or weights that do not fit."""
    from playground.core.project import load_project

    where = Path(path).name
    project = load_project(path)
    return from_project(project, pick_run(project, run, where), where)


def from_project(project, record, where: str = "the project") -> TrainedModel:
    """``record`` (one of the project's runs) with its network: the one it
    trained, where the project keeps it per run, else the project's."""
    from playground.core.export.weights_import import match_weights
    from playground.core.spec import SpecError

    spec = getattr(record, "spec", None) or project.spec
    try:
        weights = match_weights(record.weights, spec, f"run '{record.name}'")
    except SpecError as exc:  # the project's network itself is broken
        raise ExportError(f"{where}: the network cannot be built: {exc}") from None
    except ExportError as exc:
        # the network was edited after this run trained
        raise ExportError(
            f"{where}: {exc}; it was trained on another version of the network"
        ) from None
    dataset = record.dataset or {}
    return TrainedModel(
        spec=spec,
        weights=weights,
        run=record,
        source=where,
        dataset_name=dataset.get("name") or project.dataset_name,
        dataset_options=dict(dataset.get("options") or project.dataset_options),
    )
