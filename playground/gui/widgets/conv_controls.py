"""Stride, padding, padding mode and dilation; the optional activation and
pooling after the convolution. Emits `changed` on every edit; `settings()`
and friends read the current values as the core's objects."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSpinBox, QWidget

from playground.core.filters.convolution import (
    ACTIVATIONS,
    MAX_PADDING,
    PADDING_MODES,
    ConvSettings,
)

PADDING_KINDS = ("number", "same", "valid")
PADDING_TIPS = {
    "number": "Add P pixels on every side",
    "same": "As much padding as keeps the output the size of the input (stride 1)",
    "valid": "No padding: the kernel only visits places where it fits whole",
}
MODE_TIPS = {
    "zeros": "Padding pixels are 0 (black)",
    "reflect": "Padding mirrors the image, leaving the edge pixel out",
    "replicate": "Padding repeats the edge pixel",
    "circular": "Padding wraps round: the left edge continues from the right",
}
ACTIVATION_TIPS = {
    "none": "The convolution's output as it is",
    "relu": "max(0, x): negative values become 0",
    "leaky relu": "x, or 0.01x where x is negative",
    "sigmoid": "1 / (1 + e^-x): squashes into 0..1",
    "tanh": "squashes into -1..1",
    "abs": "|x|: an edge is an edge whatever its sign",
}


class ConvControlsWidget(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.stride = QSpinBox()
        self.stride.setObjectName("strideSpin")
        self.stride.setRange(1, 16)
        self.stride.setToolTip("Stride S: how many pixels the kernel moves each step")
        self.padding_kind = QComboBox()
        self.padding_kind.setObjectName("paddingKind")
        for i, kind in enumerate(PADDING_KINDS):
            self.padding_kind.addItem(kind)
            self.padding_kind.setItemData(i, PADDING_TIPS[kind])
        self.padding_kind.setCurrentText("same")
        self.padding_kind.setToolTip(
            "Padding P: pixels added round the image so the kernel can sit on the "
            "edges. 'same' keeps the size (stride 1), 'valid' adds none."
        )
        self.padding = QSpinBox()
        self.padding.setObjectName("paddingSpin")
        self.padding.setRange(0, MAX_PADDING)
        self.padding.setValue(1)
        self.padding.setToolTip("P: pixels of padding on every side")
        self.padding_mode = QComboBox()
        self.padding_mode.setObjectName("paddingMode")
        for i, mode in enumerate(PADDING_MODES):
            self.padding_mode.addItem(mode)
            self.padding_mode.setItemData(i, MODE_TIPS[mode])
        self.padding_mode.setToolTip("What the padding pixels hold")
        self.dilation = QSpinBox()
        self.dilation.setObjectName("dilationSpin")
        self.dilation.setRange(1, 32)
        self.dilation.setToolTip(
            "Dilation D: gaps between the kernel's taps; a 3x3 kernel with D = 2 "
            "spans 5x5 pixels"
        )
        self.activation = QComboBox()
        self.activation.setObjectName("activationChoice")
        for i, name in enumerate(ACTIVATIONS):
            self.activation.addItem(name)
            self.activation.setItemData(i, ACTIVATION_TIPS.get(name, ""))
        self.activation.setToolTip(
            "Applied to every output value after the convolution"
        )
        self.pool_kind = QComboBox()
        self.pool_kind.setObjectName("poolKind")
        self.pool_kind.addItems(["none", "max", "avg"])
        self.pool_kind.setToolTip(
            "Pooling after the activation: each window of the output becomes its "
            "largest (max) or mean (avg) value"
        )
        self.pool_size = QSpinBox()
        self.pool_size.setRange(1, 8)
        self.pool_size.setValue(2)
        self.pool_size.setToolTip("Pooling window: size x size output pixels")
        self.pool_stride = QSpinBox()
        self.pool_stride.setRange(1, 8)
        self.pool_stride.setValue(2)
        self.pool_stride.setToolTip("How far the pooling window moves each step")

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        rows = (
            ("Stride", self.stride, None),
            ("Padding", self.padding_kind, self.padding),
            ("Padding mode", self.padding_mode, None),
            ("Dilation", self.dilation, None),
            ("Activation", self.activation, None),
            ("Pooling", self.pool_kind, None),
        )
        for r, (text, a, b) in enumerate(rows):
            label = QLabel(text)
            label.setToolTip(a.toolTip())
            grid.addWidget(label, r, 0)
            if b is None:
                grid.addWidget(a, r, 1, 1, 2)
            else:
                grid.addWidget(a, r, 1)
                grid.addWidget(b, r, 2)
        pool_row = QGridLayout()
        pool_row.addWidget(QLabel("size"), 0, 0)
        pool_row.addWidget(self.pool_size, 0, 1)
        pool_row.addWidget(QLabel("stride"), 0, 2)
        pool_row.addWidget(self.pool_stride, 0, 3)
        grid.addLayout(pool_row, len(rows), 1, 1, 2)
        grid.setColumnStretch(1, 1)

        for spin in (
            self.stride,
            self.padding,
            self.dilation,
            self.pool_size,
            self.pool_stride,
        ):
            spin.valueChanged.connect(self._emit)
        for combo in (
            self.padding_kind,
            self.padding_mode,
            self.activation,
            self.pool_kind,
        ):
            combo.currentIndexChanged.connect(self._emit)
        self._update_enabled()

    def _emit(self, *_) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        self.padding.setEnabled(self.padding_kind.currentText() == "number")
        pooling = self.pool_kind.currentText() != "none"
        self.pool_size.setEnabled(pooling)
        self.pool_stride.setEnabled(pooling)

    # -- values --------------------------------------------------------------
    def settings(self) -> ConvSettings:
        kind = self.padding_kind.currentText()
        padding = self.padding.value() if kind == "number" else kind
        return ConvSettings(
            stride=self.stride.value(),
            padding=padding,
            padding_mode=self.padding_mode.currentText(),
            dilation=self.dilation.value(),
        )

    def activation_name(self) -> str:
        return self.activation.currentText()

    def pooling(self) -> tuple[str | None, int, int]:
        kind = self.pool_kind.currentText()
        return (
            None if kind == "none" else kind,
            self.pool_size.value(),
            self.pool_stride.value(),
        )

    def set_values(
        self, stride=None, padding=None, padding_mode=None, dilation=None
    ) -> None:
        """Several values with one `changed` at the end."""
        widgets = (
            self.stride,
            self.padding_kind,
            self.padding,
            self.padding_mode,
            self.dilation,
        )
        for w in widgets:
            w.blockSignals(True)
        if stride is not None:
            self.stride.setValue(stride)
        if padding is not None:
            if isinstance(padding, str):
                self.padding_kind.setCurrentText(padding)
            else:
                self.padding_kind.setCurrentText("number")
                self.padding.setValue(padding)
        if padding_mode is not None:
            self.padding_mode.setCurrentText(padding_mode)
        if dilation is not None:
            self.dilation.setValue(dilation)
        for w in widgets:
            w.blockSignals(False)
        self._emit()
