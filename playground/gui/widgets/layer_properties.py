"""The property editor of one layer, generated from the catalogue: the right
editor per argument, its range, and the one-line explanation as a tooltip."""

from __future__ import annotations

import html
import re

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from playground.core.layers import CATALOGUE
from playground.gui.widgets.layer_palette import layer_tooltip

INT_LIMIT = 2**31 - 1
_TEXT_KINDS = ("int_or_pair", "padding", "padding_or_pair", "output_size")


def parse_arg_text(text: str, nullable: bool):
    """What a user types for a pair-like argument, as the spec wants it:
    "3" -> 3, "3, 5" / "3x5" / "[3, 5]" -> [3, 5], "same" -> "same", "" -> None
    (when allowed). Anything else is passed on as typed, so the layer's row
    says what is wrong with it."""
    s = text.strip().lower().strip("[]() ")
    if nullable and s in ("", "none", "null"):
        return None
    if s in ("same", "valid"):
        return s
    parts = [p for p in re.split(r"[,x\s]+", s) if p]
    try:
        numbers = [int(p) if p.lower() not in ("none", "null") else None for p in parts]
    except ValueError:
        return text.strip()
    if len(numbers) == 1:
        return numbers[0]
    if len(numbers) == 2:
        return numbers
    return text.strip()


def arg_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join("none" if v is None else str(v) for v in value)
    return str(value)


class LayerPropertiesWidget(QWidget):
    """Edits one layer's arguments; emits arg_edited(name, value) per change."""

    arg_edited = Signal(str, object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.RichText)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addLayout(self.form)
        self.editors: dict[str, QWidget] = {}
        self._shown = None
        self._args = {}
        self.show_layer(None)

    def show_layer(self, layer, path: str = "") -> None:
        shown = (path, layer.type) if layer is not None else None
        if shown is not None and shown == self._shown and self.editors:
            # The same layer after an edit: update in place. Rebuilding would
            # delete the editor the user is typing in (mid-signal, even).
            self._refresh(layer)
            return
        self._shown = shown
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors = {}
        if layer is None:
            self.title.setText("<i>Select a layer to edit its settings.</i>")
            return
        t = CATALOGUE.get(layer.type)
        if t is None:
            self.title.setText(f"<b>{layer.type}</b>: unknown layer type")
            return
        self.title.setText(f"<b>Layer {path}: {t.name}</b> <small>({t.group})</small>")
        self.title.setToolTip(layer_tooltip(t))
        if t.formula or not t.args:
            # Activations show their formula whether or not they have settings
            # (LeakyReLU's slope, ELU's alpha): it is what a student looks for.
            note = QLabel("<i>No settings: this layer has nothing to choose.</i>")
            if t.formula:
                note.setTextFormat(Qt.RichText)
                note.setText(
                    f"{html.escape(t.formula, quote=False)}<br>"
                    f"{html.escape(t.derivative, quote=False)}"
                )
            note.setObjectName("layerFormula" if t.formula else "layerNoSettings")
            note.setWordWrap(True)
            self.form.addRow(note)
        for a in t.args:
            value = layer.args.get(a.name, a.default)
            editor = self._editor(a, value)
            tip = a.help + (
                f" Default: {arg_text(a.default) or 'none'}." if not a.required else ""
            )
            editor.setToolTip(tip)
            label = QLabel(a.name.replace("_", " "))
            label.setToolTip(tip)
            editor.setObjectName(f"arg_{a.name}")
            self.form.addRow(label, editor)
            self.editors[a.name] = editor

    def _refresh(self, layer) -> None:
        t = CATALOGUE[layer.type]
        for a in t.args:
            w = self.editors.get(a.name)
            if w is None:
                continue
            value = layer.args.get(a.name, a.default)
            w.blockSignals(True)
            try:
                if isinstance(w, QCheckBox):
                    w.setChecked(bool(value))
                elif isinstance(w, QComboBox):
                    w.setCurrentIndex(max(0, w.findData(value)))
                elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
                    if isinstance(value, (int, float)) and not isinstance(value, bool):
                        w.setValue(value)
                elif not w.hasFocus():
                    w.setText(arg_text(value))
            finally:
                w.blockSignals(False)

    def _editor(self, a, value) -> QWidget:
        name = a.name
        if a.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda v, n=name: self.arg_edited.emit(n, bool(v)))
            return w
        if a.kind == "choice":
            w = QComboBox()
            for choice in a.choices:
                w.addItem(choice, choice)
            w.setCurrentIndex(max(0, w.findData(value)))
            w.currentIndexChanged.connect(
                lambda i, n=name, box=w: self.arg_edited.emit(n, box.itemData(i))
            )
            return w
        if a.kind == "int" and not a.nullable and isinstance(value, int):
            w = QSpinBox()
            low = int(a.minimum) if a.minimum is not None else -INT_LIMIT
            high = (
                int(min(a.maximum, INT_LIMIT)) if a.maximum is not None else INT_LIMIT
            )
            w.setRange(low, high)
            w.setValue(int(value))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, n=name: self.arg_edited.emit(n, int(v)))
            return w
        if a.kind == "float" and not a.nullable and isinstance(value, (int, float)):
            w = QDoubleSpinBox()
            w.setDecimals(4)
            low = a.minimum if a.minimum is not None else -1e9
            high = a.maximum if a.maximum is not None else 1e9
            w.setRange(low, high)
            w.setSingleStep(0.05 if high <= 1 else 0.1)
            w.setValue(float(value))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, n=name: self.arg_edited.emit(n, float(v)))
            return w
        # pairs, "same"/"valid", and anything nullable: typed text
        w = QLineEdit(arg_text(value))
        if a.nullable:
            w.setPlaceholderText("none")
        w.editingFinished.connect(
            lambda n=name, box=w, arg=a: self._text_done(n, box, arg)
        )
        return w

    @Slot()
    def _text_done(self, name, box, a):
        text = box.text()
        if a.kind in _TEXT_KINDS or a.kind == "int":
            value = parse_arg_text(text, a.nullable)
        elif a.kind == "float":
            try:
                value = None if (a.nullable and not text.strip()) else float(text)
            except ValueError:
                value = text.strip()
        else:
            value = text
        self.arg_edited.emit(name, value)
