"""The command line's contract with the scripts teachers write: one-line errors,
exit statuses, Ctrl-C, the progress bar and every JSON key the spec names.
Run as users run it: in a subprocess."""

import json
import os
import pty
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

NETWORKS = Path(__file__).resolve().parents[2] / "resources" / "networks"
TFP = NETWORKS / "tfp_default.json"
RESNET = NETWORKS / "resnet_tiny.json"
ENV = dict(os.environ, QT_QPA_PLATFORM="offscreen")


def playground(*args, env=ENV, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "playground", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env,
    )


def one_line_error(result, *fragments, status=None) -> str:
    assert result.returncode != 0, result.stdout
    if status is not None:
        assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("playground: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# -- 1. argparse errors --------------------------------------------------------------
@pytest.mark.parametrize(
    "args, fragments",
    [
        (["train", TFP, "--dataset", "circle", "--epochs", "abc"],
         ["argument --epochs: invalid int value: 'abc'", "(see 'playground train --help')"]),
        (["train", TFP, "--dataset", "circle", "--device", "tpu"],
         ["argument --device: invalid choice: 'tpu'", "(see 'playground train --help')"]),
        (["train", TFP], ["required: --dataset", "(see 'playground train --help')"]),
        (["train", "--dataset", "circle"], ["required: SPEC", "(see 'playground train --help')"]),
        (["summary"], ["required: SPEC", "(see 'playground summary --help')"]),
        (["trian"], ["invalid choice: 'trian'", "(see 'playground --help')"]),
        (["train", TFP, "--dataset", "circle", "--epoch-count", "3"],
         ["unrecognized arguments: --epoch-count 3", "(see 'playground train --help')"]),
        (["datasets", "--jsn"], ["unrecognized arguments: --jsn", "(see 'playground datasets --help')"]),
        (["--no-such-option"], ["unrecognized arguments: --no-such-option", "(see 'playground --help')"]),
    ],
)
def test_usage_errors_are_one_line_exit_2(args, fragments):
    result = playground(*args)
    one_line_error(result, *fragments, status=2)
    assert "usage:" not in result.stderr


# -- 2. --debug anywhere -------------------------------------------------------------
@pytest.mark.parametrize(
    "args",
    [["--debug", "summary", "."], ["summary", ".", "--debug"], ["summary", "--debug", "."]],
)
def test_debug_shows_the_traceback_before_or_after_the_subcommand(args):
    result = playground(*args)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "it is a folder" in result.stderr


def test_every_subcommand_accepts_debug(tmp_path):
    assert playground("datasets", "--debug").returncode == 0
    assert playground("summary", TFP, "--debug").returncode == 0
    assert "Traceback" in playground("gui", tmp_path / "missing.npg", "--debug").stderr
    result = playground("train", TFP, "--dataset", "circle", "--lr", "-1", "--debug")
    assert result.returncode == 1 and "Traceback" in result.stderr
    # Without it, the same error stays one line.
    one_line_error(playground("train", TFP, "--dataset", "circle", "--lr", "-1"), "learning_rate")


# -- 3. no display -------------------------------------------------------------------
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the check is for Linux only")
@pytest.mark.parametrize("args", [[], ["gui"]])
def test_gui_without_a_display_says_so_in_one_line(args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = playground(*args, env=env, timeout=60)
    one_line_error(result, "no display found", "DISPLAY is not set", "xvfb-run -a playground",
                   status=1)


# -- 4. Ctrl-C -----------------------------------------------------------------------
# Stands in for a Ctrl-C pressed while torch loads, which takes seconds.
_INTERRUPT_TORCH_IMPORT = """
import sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "torch":
            raise KeyboardInterrupt

sys.meta_path.insert(0, Interrupt())
from playground.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_torch_loads_is_one_line_exit_130():
    result = subprocess.run(
        [sys.executable, "-c", _INTERRUPT_TORCH_IMPORT, "train", str(TFP), "--dataset", "circle"],
        capture_output=True, text=True, timeout=120, env=ENV,
    )
    assert result.returncode == 130, result.stderr
    assert result.stderr.strip() == "playground: interrupted"


def test_ctrl_c_during_training_stops_it_and_keeps_the_metrics(tmp_path):
    metrics = tmp_path / "m.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "playground", "train", str(TFP), "--dataset", "circle",
         "--epochs", "1000", "--metrics-json", str(metrics)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )
    try:
        assert proc.stderr.readline().startswith("epoch 1/1000")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert out.startswith("stopped after ")
    data = json.loads(metrics.read_text())
    assert data["status"] == "stopped" and len(data["history"]) >= 1


# -- 5. output paths checked before training ----------------------------------------
def test_unwritable_outputs_are_refused_before_training(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    cases = [
        ("--metrics-json", tmp_path / "missing" / "m.json", "folder '"),
        ("--out", tmp_path / "missing" / "w.npg", "does not exist"),
        ("--metrics-json", tmp_path, "it is a folder"),
        ("--out", a_file / "w.safetensors", "is not a folder"),
    ]
    for option, path, why in cases:
        result = playground("train", TFP, "--dataset", "circle", "--epochs", "50", option, path)
        line = one_line_error(result, f"cannot write {option} '{path}'", why, status=1)
        assert ".tmp" not in line and "epoch" not in result.stderr.replace(line, "")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root may write into any folder")
def test_read_only_output_folder_is_refused_before_training(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = playground("train", TFP, "--dataset", "circle", "--metrics-json", folder / "m.json")
    finally:
        folder.chmod(0o700)
    one_line_error(result, f"'{folder / 'm.json'}'", "no permission", status=1)


def test_write_failure_after_training_names_the_users_file(tmp_path):
    # The folder can vanish during a long run; the message must not name the
    # temporary file the write went through.
    from playground.cli import CommandError, _write_json_atomic, _write_output

    path = tmp_path / "gone" / "m.json"
    with pytest.raises(CommandError, match=re.escape(f"cannot write --metrics-json '{path}'")) as info:
        _write_output("--metrics-json", path, _write_json_atomic, {"a": 1})
    assert ".m.json." not in str(info.value)


# -- 6. the terminal progress bar ----------------------------------------------------
def _run_on_a_terminal(*args) -> str:
    """Run with stderr on a pseudo-terminal and return what was drawn there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "playground", *map(str, args)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=slave, env=ENV)
    os.close(slave)
    chunks = []
    # Read while it runs: a full terminal buffer would block the writer.
    reader = threading.Thread(target=_drain, args=(master, chunks), daemon=True)
    reader.start()
    try:
        assert proc.wait(timeout=120) == 0
    finally:
        proc.kill()
        reader.join(timeout=10)
        os.close(master)
    return b"".join(chunks).decode()


def _drain(fd, chunks) -> None:
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:  # EIO: the other end closed
            return
        if not data:
            return
        chunks.append(data)


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_shows_each_epochs_numbers_under_its_own_number():
    drawn = _run_on_a_terminal("train", TFP, "--dataset", "circle", "--epochs", "3",
                               "--batch-size", "4", "--device", "cpu")
    frames = [f.strip() for f in re.split(r"[\r\n]+", drawn) if f.strip()]
    ends = [f for f in frames if "train_loss" in f]
    assert [f.split()[1] for f in ends] == ["1/3", "2/3", "3/3"], frames
    # After epoch 1 of 3 the bar is a third full.
    assert "[########................]" in ends[0]
    shown = [int(f.split()[1].split("/")[0]) for f in frames if f.startswith("epoch ")]
    assert shown == sorted(shown) and shown[-1] == 3


# -- 7 and 8. summary ----------------------------------------------------------------
def test_summary_shows_the_layers_inside_a_residual_block():
    text = playground("summary", RESNET)
    assert text.returncode == 0, text.stderr
    rows = [line.split() for line in text.stdout.splitlines()]
    assert ["3", "Residual", "[16,", "8,", "8]", "4,672"] in rows
    assert ["3.0", "Conv2d", "[16,", "8,", "8]", "2,304"] in rows
    assert ["5.4", "BatchNorm2d", "[16,", "8,", "8]", "32"] in rows
    assert re.search(r"^3\.0 +  Conv2d", text.stdout, re.M), "children are indented"
    assert "Total parameters: 9,690" in text.stdout

    data = json.loads(playground("summary", RESNET, "--json").stdout)
    assert [layer["index"] for layer in data["layers"]] == list(range(10))
    block = data["layers"][3]
    assert block["type"] == "Residual" and block["params"] == 4672
    assert [c["path"] for c in block["layers"]] == ["3.0", "3.1", "3.2", "3.3", "3.4"]
    assert block["layers"][0] == {"index": 0, "path": "3.0", "type": "Conv2d",
                                  "output_shape": [16, 8, 8], "params": 2304}
    assert sum(c["params"] for c in block["layers"]) == block["params"]


def test_summary_of_a_folder_or_a_missing_file_names_it(tmp_path):
    one_line_error(playground("summary", tmp_path),
                   f"cannot read network spec '{tmp_path}': it is a folder, not a JSON file")
    missing = tmp_path / "missing.json"
    one_line_error(playground("summary", missing), f"cannot read network spec '{missing}'",
                   "no such file")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    one_line_error(playground("summary", bad), f"'{bad}'", "not valid JSON")
    one_line_error(playground("train", tmp_path, "--dataset", "circle"), "it is a folder")
    one_line_error(playground("gui", tmp_path), f"cannot open project '{tmp_path}'",
                   "it is a folder")


# -- 10. every key the spec names ------------------------------------------------------
def test_summary_json_has_every_spec_key():
    data = json.loads(playground("summary", TFP, "--json").stdout)
    assert {"layers", "input_shape", "total_params", "trainable_params"} <= set(data)
    assert data["input_shape"] == [2]
    assert isinstance(data["total_params"], int) and isinstance(data["trainable_params"], int)
    for layer in data["layers"]:
        assert {"index", "type", "output_shape", "params"} <= set(layer)
        assert isinstance(layer["index"], int) and isinstance(layer["type"], str)
        assert all(isinstance(n, int) for n in layer["output_shape"])
        assert isinstance(layer["params"], int)
    assert sum(layer["params"] for layer in data["layers"]) == data["total_params"]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _train_metrics(tmp_path, dataset, epochs):
    metrics = tmp_path / "m.json"
    result = playground("train", TFP, "--dataset", dataset, "--epochs", epochs, "--quiet",
                        "--seed", "1", "--metrics-json", metrics)
    assert result.returncode == 0, result.stderr
    return json.loads(metrics.read_text())


def test_metrics_json_classification_keys_and_one_entry_per_epoch(tmp_path):
    data = _train_metrics(tmp_path, "circle", 3)
    assert {"history", "final", "examples_per_second"} <= set(data)
    assert _number(data["examples_per_second"]) and data["examples_per_second"] > 0
    assert [h["epoch"] for h in data["history"]] == [1, 2, 3]
    keys = {"epoch", "train_loss", "val_loss", "train_accuracy", "val_accuracy"}
    for entry in data["history"]:
        assert keys <= set(entry)
        assert isinstance(entry["epoch"], int)
        assert all(_number(entry[k]) for k in keys)
        assert 0 <= entry["train_accuracy"] <= 1 and 0 <= entry["val_accuracy"] <= 1
    assert isinstance(data["final"], dict)
    assert {"train_loss", "val_loss", "train_accuracy", "val_accuracy"} <= set(data["final"])


@pytest.mark.parametrize("dataset", ["plane"])
def test_metrics_json_regression_has_no_accuracy_keys(tmp_path, dataset):
    data = _train_metrics(tmp_path, dataset, 2)
    assert len(data["history"]) == 2
    for entry in [*data["history"], data["final"]]:
        assert {"train_loss", "val_loss"} <= set(entry)
        assert not any("accuracy" in key for key in entry), entry
    assert all(isinstance(h["epoch"], int) for h in data["history"])
    assert _number(data["examples_per_second"])


def test_a_project_file_alone_opens_the_app(tmp_path):
    # `playground lesson.npg` is `playground gui lesson.npg`: same checks, same words
    missing = tmp_path / "lesson.npg"
    alone = playground(str(missing), timeout=60)
    with_gui = playground("gui", str(missing), timeout=60)
    assert alone.returncode == with_gui.returncode != 0
    assert alone.stderr == with_gui.stderr and "lesson.npg" in alone.stderr
