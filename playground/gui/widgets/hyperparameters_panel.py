"""The hyperparameters panel: every training setting, with what it means."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from playground.core.settings import DEVICES, LOSSES, OPTIMIZERS, SCHEDULES
from playground.gui import preferences

# name -> (label, tooltip)
TIPS = {
    "optimizer": ("Optimizer", "How the weights move along the gradient."),
    "learning_rate": (
        "Learning rate",
        (
            "Step size of each update: too large diverges, "
            "too small crawls. TensorFlow Playground's default is 0.03."
        ),
    ),
    "momentum": (
        "Momentum",
        ("How much of the previous step carries over (momentum and Nesterov only)."),
    ),
    "schedule": ("Schedule", "How the learning rate changes during the run."),
    "step_size": ("Step every (epochs)", "Epochs between decays (step schedule)."),
    "gamma": (
        "Decay factor",
        "The rate is multiplied by this at each step (step schedule).",
    ),
    "batch_size": (
        "Batch size",
        ("Examples per update: small batches are noisy but update often."),
    ),
    "epochs": ("Epochs", "Passes over the training data."),
    "loss": ("Loss", "What training minimises."),
    "l1": (
        "L1",
        "Adds l1 \u00b7 \u03a3|w| to the loss: pushes weights to exactly zero.",
    ),
    "l2": ("L2", "Adds l2 \u00b7 \u03a3w\u00b2 to the loss: keeps weights small."),
    "weight_decay": (
        "Weight decay",
        (
            "Shrinks every weight a little each step (the "
            "optimizer's own decay; decoupled in AdamW)."
        ),
    ),
    "grad_clip": (
        "Gradient clipping",
        ("Largest allowed gradient norm; 0 turns it off. Tames exploding gradients."),
    ),
    "early_stopping": (
        "Early stopping",
        (
            "Stop when the validation loss has not improved "
            "for 'patience' epochs, and keep the best weights."
        ),
    ),
    "patience": ("Patience", "Epochs without improvement before early stopping."),
    "seed": (
        "Seed",
        "Starting weights and shuffling: the same seed repeats a run exactly.",
    ),
    "device": ("Device", "Where training runs; auto picks a GPU when there is one."),
}


class HyperparametersPanel(QWidget):
    """Shows TrainingSettings; emits settings_edited(dict of changed fields)."""

    settings_edited = Signal(dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.editors: dict[str, QWidget] = {}
        self._combo("optimizer", OPTIMIZERS)
        self._double("learning_rate", 1e-6, 10.0, 6, 0.001)
        self._double("momentum", 0.0, 0.999, 3, 0.05)
        self._combo("schedule", SCHEDULES)
        self._int("step_size", 1, 100_000)
        self._double("gamma", 0.001, 1.0, 3, 0.05)
        self._int("batch_size", 1, 100_000)
        self._int("epochs", 1, 1_000_000)
        self._combo("loss", LOSSES)
        self._double("l1", 0.0, 10.0, 5, 0.0001)
        self._double("l2", 0.0, 10.0, 5, 0.0001)
        self._double("weight_decay", 0.0, 10.0, 5, 0.0001)
        self._double("grad_clip", 0.0, 1e6, 3, 0.5)
        self._check("early_stopping")
        self._int("patience", 1, 10_000)
        self._int("seed", 0, 2**31 - 1)
        self._combo("device", {d: "" for d in DEVICES})
        self.dropout = QDoubleSpinBox()
        self.dropout.setRange(0.0, 0.95)
        self.dropout.setSingleStep(0.05)
        self.dropout.setValue(preferences.dropout_default())
        self.dropout.valueChanged.connect(preferences.set_dropout_default)
        self.dropout.setObjectName("dropoutDefault")
        tip = "The drop probability a Dropout layer starts with when you add one."
        self.dropout.setToolTip(tip)
        label = QLabel("Dropout default")
        label.setToolTip(tip)
        self.form.addRow(label, self.dropout)

    def _row(self, name, editor):
        text, tip = TIPS[name]
        label = QLabel(text)
        label.setToolTip(tip)
        editor.setToolTip(tip)
        editor.setObjectName(f"setting_{name}")
        self.form.addRow(label, editor)
        self.editors[name] = editor

    def set_device_available(self, name: str, available: bool) -> None:
        """Grey out a device this machine's PyTorch cannot use, as the
        toolbar's device box does."""
        box = self.editors["device"]
        index = box.findData(name)
        if index >= 0:
            box.model().item(index).setEnabled(bool(available))

    def _combo(self, name, choices: dict):
        w = QComboBox()
        for key, text in choices.items():
            w.addItem(key, key)
            if text:
                w.setItemData(w.count() - 1, text, Qt.ToolTipRole)
        w.currentIndexChanged.connect(
            lambda i, n=name, b=w: self._edited(n, b.itemData(i))
        )
        self._row(name, w)

    def _double(self, name, low, high, decimals, step):
        w = QDoubleSpinBox()
        w.setRange(low, high)
        w.setDecimals(decimals)
        w.setSingleStep(step)
        w.setKeyboardTracking(False)
        w.valueChanged.connect(lambda v, n=name: self._edited(n, float(v)))
        self._row(name, w)

    def _int(self, name, low, high):
        w = QSpinBox()
        w.setRange(low, high)
        w.setKeyboardTracking(False)
        w.valueChanged.connect(lambda v, n=name: self._edited(n, int(v)))
        self._row(name, w)

    def _check(self, name):
        w = QCheckBox()
        w.toggled.connect(lambda v, n=name: self._edited(n, bool(v)))
        self._row(name, w)

    def _edited(self, name, value):
        self.settings_edited.emit({name: value})

    def show_settings(self, s) -> None:
        for name, w in self.editors.items():
            value = getattr(s, name)
            w.blockSignals(True)
            if isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findData(value)))
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            else:
                w.setValue(value)
            w.blockSignals(False)
        uses = {
            "momentum": s.optimizer in ("momentum", "nesterov"),
            "step_size": s.schedule == "step",
            "gamma": s.schedule == "step",
            "patience": s.early_stopping,
        }
        for name, used in uses.items():
            self.editors[name].setEnabled(used)
