"""The memory check before training: batch size and the machine's memory count."""

import dataclasses

import numpy as np
import pytest

from playground.core import memory
from playground.core.compat import CompatibilityError, check_training
from playground.core.datasets import get_dataset
from playground.core.datasets.base import Dataset
from playground.core.events import Failed, RunStarted
from playground.core.settings import (
    OPTIMIZER_STATE_SLOTS,
    OPTIMIZERS,
    TrainingSettings,
)
from playground.core.shapes import infer_shapes
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import default_spec
from playground.core.trainer import EVAL_BATCH, Trainer, eval_batch_size

GB = 10**9

# [1, 512, 512] through two 64-channel convolutions: about 134 MB of layer
# outputs per example, far inside the fixed per-example limits.
BIG = NetworkSpec(input_shape=(1, 512, 512), layers=(
    LayerSpec("Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}),
    LayerSpec("Conv2d", {"out_channels": 64, "kernel_size": 3, "padding": 1}),
    LayerSpec("AdaptiveAvgPool2d", {"output_size": [1, 1]}),
    LayerSpec("Flatten", {}),
    LayerSpec("Linear", {"out_features": 2}),
))


def big_dataset(n_train=500):
    # Only lengths and sizes matter to the check; 1-wide arrays keep it small.
    return Dataset(
        name="big", title="big", description="", task="classification",
        input_shape=(1, 512, 512), x_train=np.zeros((n_train, 1), np.float32),
        y_train=np.zeros(n_train, np.int64), x_val=np.zeros((10, 1), np.float32),
        y_val=np.zeros(10, np.int64), options={}, num_classes=2,
    )


@pytest.fixture
def machine(monkeypatch):
    """Pretend the machine has this much memory free (None: unknown)."""
    seen = []

    def set_available(value):
        def fake(device="cpu"):
            seen.append(device)
            return value

        monkeypatch.setattr(memory, "available_memory", fake)
        return seen

    return set_available


def test_every_optimizer_has_a_state_size():
    assert set(OPTIMIZER_STATE_SLOTS) == set(OPTIMIZERS)


def test_the_estimate_grows_with_the_batch_and_the_optimizer():
    s = infer_shapes(BIG)
    assert 130e6 < memory.per_example_bytes(s) < 140e6 * 2
    one = memory.training_memory_bytes(s, 1, "adam")
    hundred = memory.training_memory_bytes(s, 100, "adam")
    assert hundred - one == 99 * memory.per_example_bytes(s)
    assert hundred > 25 * GB
    assert memory.training_memory_bytes(s, 1, "sgd") < one  # no Adam moments
    assert memory.training_memory_bytes(s, 1, "sgd", data_values=10) == (
        memory.training_memory_bytes(s, 1, "sgd") + 40
    )


def test_a_big_batch_is_refused_with_the_numbers_and_advice(machine):
    seen = machine(8 * GB)
    settings = TrainingSettings(batch_size=100, device="cpu")
    with pytest.raises(CompatibilityError) as err:
        check_training(BIG, big_dataset(), settings, "cpu")
    message = str(err.value)
    assert seen == ["cpu"]
    assert message.startswith("training would need about 27 GB of memory (batch size 100)")
    assert "only 8.0 GB is available" in message
    # 8 GB holds about 29 examples of ~268 MB each
    assert "use a batch size of 20 or less" in message
    assert "make the input or the layers smaller" in message
    # the suggestion fits
    check_training(BIG, big_dataset(), settings.replace(batch_size=20), "cpu")


def test_the_batch_is_never_larger_than_the_training_split(machine):
    machine(8 * GB)
    check_training(BIG, big_dataset(n_train=10), TrainingSettings(batch_size=100), "cpu")


def test_when_nothing_fits_it_says_so(machine):
    machine(100 * 10**6)
    with pytest.raises(CompatibilityError, match="even a batch of one would not fit: make the input"):
        check_training(BIG, big_dataset(), TrainingSettings(batch_size=1), "cpu")


def test_unknown_memory_skips_the_check(machine):
    machine(None)
    check_training(BIG, big_dataset(), TrainingSettings(batch_size=100), "cpu")


def test_on_a_gpu_the_dataset_counts_too(machine):
    ds = get_dataset("digits")
    s = infer_shapes(NetworkSpec(input_shape=(1, 8, 8), layers=(
        LayerSpec("Flatten", {}), LayerSpec("Linear", {"out_features": 10}))))
    need = memory.training_memory_bytes(s, 10, "adam")
    machine(need + 1000)  # enough for training, not for the 1797 images too
    settings = TrainingSettings(device="cpu")
    spec = NetworkSpec(input_shape=(1, 8, 8), layers=(
        LayerSpec("Flatten", {}), LayerSpec("Linear", {"out_features": 10})))
    check_training(spec, ds, settings, "cpu")
    with pytest.raises(CompatibilityError, match="of GPU memory"):
        check_training(spec, ds, settings, "cuda")


def test_the_trainer_refuses_before_building_the_model(machine):
    machine(1000)
    events = list(Trainer(default_spec(), get_dataset("circle"),
                          TrainingSettings(device="cpu")).run())
    assert len(events) == 1 and isinstance(events[0], Failed)
    assert events[0].message.startswith("training would need about")
    assert not any(isinstance(e, RunStarted) for e in events)


def test_the_real_machine_reports_some_memory():
    for device in ("cpu", "cuda"):  # cuda: None where there is no GPU
        free = memory.available_memory(device)
        assert free is None or free > 0


def test_available_memory_reads_meminfo_then_falls_back(monkeypatch, tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       16000000 kB\nMemAvailable:    2000000 kB\n")
    monkeypatch.setattr(memory, "MEMINFO", str(meminfo))
    assert memory.available_memory("cpu") == 2_048_000_000
    assert memory.available_memory("mps") == 2_048_000_000  # shares the machine's

    monkeypatch.setattr(memory, "MEMINFO", str(tmp_path / "missing"))
    pages = {"SC_PAGE_SIZE": 4096, "SC_AVPHYS_PAGES": 10}
    monkeypatch.setattr(memory.os, "sysconf", pages.__getitem__)
    assert memory.available_memory("cpu") == 40960

    def missing(name):
        raise ValueError(name)

    monkeypatch.setattr(memory.os, "sysconf", missing)
    assert memory.available_memory("cpu") is None


def test_evaluation_chunks_stay_within_a_training_step():
    assert eval_batch_size(100, 10) == EVAL_BATCH  # small nets: one big chunk
    per_example = infer_shapes(BIG).activation_elements
    assert eval_batch_size(per_example, 8) == 16
    assert eval_batch_size(per_example, 1) == 2
    assert eval_batch_size(10**9, 1) == 2


def test_training_split_sizes_are_checked_with_the_real_dataset(machine):
    machine(None)
    iris = get_dataset("iris")
    empty = dataclasses.replace(iris, x_train=iris.x_train[:0], y_train=iris.y_train[:0])
    spec = NetworkSpec(input_shape=(4,), layers=(LayerSpec("Linear", {"out_features": 3}),))
    with pytest.raises(CompatibilityError, match="no training examples"):
        check_training(spec, empty, TrainingSettings(), "cpu")


def test_gpu_runs_are_not_judged_by_the_machines_memory(machine):
    from playground.core.compat import early_check_device

    seen = machine(1 * GB)
    assert early_check_device("cuda") is None
    assert early_check_device("cpu") == "cpu" and early_check_device("mps") == "mps"
    settings = TrainingSettings(batch_size=100, device="cuda")
    check_training(BIG, big_dataset(), settings, early_check_device("cuda"))  # no refusal
    assert seen == []


def test_auto_is_checked_early_only_once_torch_knows_the_device():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from playground.core.compat import early_check_device\n"
        "before = early_check_device('auto')\n"
        "import torch\n"
        "after = early_check_device('auto')\n"
        "print(before, after, torch.cuda.is_available())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, cuda = out.stdout.split()
    assert before == "None"
    assert after == ("None" if cuda == "True" else "cpu")
