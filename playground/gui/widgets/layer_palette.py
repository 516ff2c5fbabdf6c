"""The layer palette: the catalogue grouped and searchable; click or drag a
layer onto the network."""

from __future__ import annotations

import html

from PySide6.QtCore import QMimeData, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.layers import CATALOGUE, GROUPS

LAYER_MIME = "application/x-playground-layer"
TYPE_ROLE = Qt.UserRole + 1


def layer_tooltip(layer_type) -> str:
    """What a student asks "what is this?" about: the summary and, for an
    activation, its formula and derivative."""
    parts = [
        f"<b>{layer_type.name}</b><br>{html.escape(layer_type.summary, quote=False)}"
    ]
    if layer_type.formula:
        parts.append(f"<br><br>{html.escape(layer_type.formula, quote=False)}")
    if layer_type.derivative:
        parts.append(f"<br>{html.escape(layer_type.derivative, quote=False)}")
    return "<p>" + "".join(parts) + "</p>"


class _PaletteTree(QTreeWidget):
    def mimeData(self, items):
        data = QMimeData()
        names = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if names:
            data.setData(LAYER_MIME, names[0].encode("utf-8"))
            data.setText(names[0])
        return data

    def mimeTypes(self):
        return [LAYER_MIME]


class LayerPaletteWidget(QWidget):
    layer_chosen = Signal(str)  # a catalogue type name, clicked to be added

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers\u2026")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Filter the layers by name, group or description")
        self.search.textChanged.connect(self._filter)
        self.tree = _PaletteTree()
        self.tree.setObjectName("layerPalette")
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SingleSelection)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.groups: dict[str, QTreeWidgetItem] = {}
        for group in GROUPS:
            members = [t for t in CATALOGUE.values() if t.group == group]
            if not members:
                continue
            head = QTreeWidgetItem([group])
            head.setFlags(Qt.ItemIsEnabled)
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            self.tree.addTopLevelItem(head)
            self.groups[group] = head
            for t in members:
                item = QTreeWidgetItem([t.name])
                item.setData(0, TYPE_ROLE, t.name)
                item.setToolTip(0, layer_tooltip(t))
                item.setFlags(
                    Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled
                )
                head.addChild(item)
                self.items[t.name] = item
            head.setExpanded(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)

    def visible_types(self) -> list[str]:
        return [name for name, item in self.items.items() if not item.isHidden()]

    @Slot(str)
    def _filter(self, text: str):
        words = text.lower().split()
        for group, head in self.groups.items():
            shown = 0
            for i in range(head.childCount()):
                item = head.child(i)
                t = CATALOGUE[item.data(0, TYPE_ROLE)]
                haystack = f"{t.name} {group} {t.summary}".lower()
                hide = any(w not in haystack for w in words)
                item.setHidden(hide)
                shown += not hide
            head.setHidden(shown == 0)

    @Slot(QTreeWidgetItem, int)
    def _clicked(self, item, _column=0):
        name = item.data(0, TYPE_ROLE)
        if name:
            self.layer_chosen.emit(name)
