"""The network as an editable list: one row per layer with its output shape and
parameter count, an invalid layer marked in place with its message. Layers are
reordered by dragging; palette layers are dropped in. The list never edits the
spec itself: it asks (signals) and is redrawn from the spec that results."""

from __future__ import annotations

import math

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
)

from playground.core.layers import CATALOGUE
from playground.gui.widgets.layer_palette import LAYER_MIME, layer_tooltip

PATH_ROLE = Qt.UserRole + 2
ERROR_COLOUR = QColor("#b00020")
ERROR_BACKGROUND = QColor("#fdecea")
COLUMNS = ("Layer", "Settings", "Output shape", "Parameters")


def shape_text(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def settings_text(layer) -> str:
    """A row's short description of its arguments."""
    if layer.type == "Residual":
        n = len(layer.layers)
        return f"adds its input to the output of its {n} layer{'s' if n != 1 else ''}"
    a = layer.args
    if layer.type == "Linear":
        n = a.get("out_features", "?")
        text = f"{n} unit{'' if n == 1 else 's'}"
        return text + (", no bias" if a.get("bias") is False else "")
    if layer.type in ("Conv1d", "Conv2d"):
        text = (
            f"{a.get('out_channels', '?')} filters {_size(a.get('kernel_size', '?'))}"
        )
        for key, word in (
            ("stride", "stride"),
            ("padding", "pad"),
            ("dilation", "dilation"),
        ):
            if key in a:
                text += f", {word} {_size(a[key])}"
        return text
    if layer.type in ("MaxPool2d", "AvgPool2d"):
        text = f"window {_size(a.get('kernel_size', '?'))}"
        if "stride" in a:
            text += f", stride {_size(a['stride'])}"
        return text
    return ", ".join(f"{k.replace('_', ' ')} {_size(v)}" for k, v in a.items())


def _size(v) -> str:
    if isinstance(v, (list, tuple)):
        return "\u00d7".join("?" if x is None else str(x) for x in v)
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return str(v)


class LayerListWidget(QTreeWidget):
    # (catalogue type, parent path "" or "3", position among its siblings)
    layer_dropped = Signal(str, str, int)
    # (path of the moved layer, parent path, position it should end up at)
    layer_moved = Signal(str, str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("layerList")
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(list(COLUMNS))
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDrop)
        self.setDefaultDropAction(Qt.MoveAction)
        self.setAlternatingRowColors(True)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        # Sized to the shapes alone: an error message in this column would
        # otherwise push the settings column down to "1...". The message is
        # elided here, whole in the tooltip and under the list.
        header.setSectionResizeMode(2, QHeaderView.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeToContents)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.errors: dict[str, str] = {}

    # -- showing ------------------------------------------------------------------
    def show_network(self, spec, infos: dict, errors) -> None:
        """Rebuild the rows; keep the selection by path."""
        selected = self.selected_paths()
        self.clear()
        self.items = {}
        self.errors = {}
        for err in errors:
            key = err.path or ""
            self.errors.setdefault(key, err.detail if key else str(err))
        self._add(self.invisibleRootItem(), spec.layers, "", infos)
        self.expandAll()
        self._fit_shape_column()
        for path in selected:
            if path in self.items:
                self.items[path].setSelected(True)
        if selected and selected[0] in self.items:
            self.setCurrentItem(
                self.items[selected[0]], 0, QItemSelectionModel.NoUpdate
            )

    def _fit_shape_column(self) -> None:
        metrics = self.fontMetrics()
        texts = [COLUMNS[2], "[16, 28, 28]"] + [
            item.text(2) for path, item in self.items.items() if path not in self.errors
        ]
        width = max(metrics.horizontalAdvance(t) for t in texts) + 24
        self.header().resizeSection(2, width)

    def _add(self, parent, layers, prefix, infos):
        for i, layer in enumerate(layers):
            path = f"{prefix}{i}"
            info = infos.get(path)
            error = self.errors.get(path)
            t = CATALOGUE.get(layer.type)
            item = QTreeWidgetItem(
                [
                    f"{path}  {layer.type}",
                    settings_text(layer),
                    shape_text(info.output_shape)
                    if info
                    else ("\u26a0 " + error if error else "?"),
                    f"{info.params:,}" if info else "",
                ]
            )
            item.setData(0, PATH_ROLE, path)
            item.setTextAlignment(3, Qt.AlignRight | Qt.AlignVCenter)
            flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled
            if layer.type == "Residual":
                flags |= Qt.ItemIsDropEnabled
            item.setFlags(flags)
            if t is not None:
                item.setToolTip(0, layer_tooltip(t))
            if error:
                for col in range(len(COLUMNS)):
                    item.setBackground(col, QBrush(ERROR_BACKGROUND))
                item.setForeground(2, QBrush(ERROR_COLOUR))
                item.setToolTip(2, error)
                item.setToolTip(1, error)
            elif info is not None:
                item.setToolTip(
                    2,
                    f"input {shape_text(info.input_shape)} \u2192 output "
                    f"{shape_text(info.output_shape)}, {math.prod(info.output_shape):,} values",
                )
            parent.addChild(item)
            self.items[path] = item
            if layer.layers:
                self._add(item, layer.layers, f"{path}.", infos)

    def selected_paths(self) -> list[str]:
        paths = [i.data(0, PATH_ROLE) for i in self.selectedItems()]
        return sorted((p for p in paths if p is not None), key=_path_key)

    def current_path(self) -> str | None:
        item = self.currentItem()
        if item is not None and item.isSelected():
            return item.data(0, PATH_ROLE)
        paths = self.selected_paths()
        return paths[0] if paths else None

    def select_path(self, path: str) -> None:
        item = self.items.get(path)
        if item is not None:
            self.clearSelection()
            self.setCurrentItem(item)
            item.setSelected(True)
            self.scrollToItem(item)

    # -- drag and drop ----------------------------------------------------------------
    def mimeTypes(self):
        return [LAYER_MIME, "application/x-qabstractitemmodeldatalist"]

    def dragEnterEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME) or event.source() is self:
            event.acceptProposedAction()
            super().dragEnterEvent(event)
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        if event.mimeData().hasFormat(LAYER_MIME) or event.source() is self:
            super().dragMoveEvent(event)
            event.accept()
        else:
            event.ignore()

    def drop_target(self, item, position) -> tuple[str, int]:
        """(parent path, index) where a drop lands, from the item under the
        pointer and the indicator position (above, below, on)."""
        if item is None:
            return "", self.topLevelItemCount()
        path = item.data(0, PATH_ROLE)
        *parents, last = path.split(".")
        parent = ".".join(parents)
        if position == QAbstractItemView.OnItem and item.flags() & Qt.ItemIsDropEnabled:
            return path, item.childCount()
        if position == QAbstractItemView.AboveItem:
            return parent, int(last)
        return parent, int(last) + 1

    def dropEvent(self, event):
        item = self.itemAt(event.position().toPoint())
        parent, index = self.drop_target(item, self.dropIndicatorPosition())
        data = event.mimeData()
        # Copy, never Move: the rows are rebuilt from the edited spec, and a
        # Move would make the view delete the dragged rows afterwards.
        event.setDropAction(Qt.CopyAction)
        event.accept()
        if data.hasFormat(LAYER_MIME):
            name = bytes(data.data(LAYER_MIME)).decode("utf-8")
            QTimer.singleShot(0, lambda: self.layer_dropped.emit(name, parent, index))
        elif event.source() is self:
            moved = self.current_path()
            if moved is not None:
                QTimer.singleShot(
                    0, lambda: self.layer_moved.emit(moved, parent, index)
                )


def _path_key(path: str) -> tuple:
    return tuple(int(p) for p in path.split("."))
