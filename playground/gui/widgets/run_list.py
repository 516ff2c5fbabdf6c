"""The runs of a project: a checkable list beside the plots and a table that
compares their settings and final metrics.

Both views share one model, so a run hidden, renamed or recoloured in one is
so in the other. The model only shows rows and reports what the user asked
for (show, rename); the tab decides, through the session, and hands back
the rows. Rows change when runs change, never as points arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QItemSelectionModel,
    QRegularExpression,
    QSize,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QFont,
    QRegularExpressionValidator,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QStyledItemDelegate,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

KEY_ROLE = Qt.UserRole + 1
SORT_ROLE = Qt.UserRole + 2
# what a project file can name a run's files with (see core/project.py)
NAME_PATTERN = r"[A-Za-z0-9_.\-]{1,64}"
HIDDEN_TEXT = QColor(140, 140, 140)


@dataclass
class RunRow:
    """What the run views show of one run."""

    key: str
    name: str
    color: tuple
    visible: bool = True
    live: bool = False  # still training: not in the project yet
    status: str = ""
    settings: object = None  # TrainingSettings
    dataset: str = ""
    epochs_done: int = 0
    final: dict = field(default_factory=dict)
    best_epoch: int = 0
    wall_time: float | None = None
    examples_per_second: float = 0.0
    message: str = ""


def hex_color(color) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color[:3])


def parse_color(text: str):
    """(r, g, b) of a colour name such as "#d55e00", or None."""
    color = QColor(text)
    return (color.red(), color.green(), color.blue()) if color.isValid() else None


def record_row(run, key: str, color: tuple) -> RunRow:
    """The row of a run the project keeps (a RunRecord)."""
    last = run.history[-1] if run.history else {}
    return RunRow(
        key=key,
        name=run.name,
        color=color,
        visible=run.visible,
        status=run.ended,
        settings=run.settings,
        dataset=str(run.dataset.get("name", "")),
        epochs_done=len(run.history),
        final=run.final_metrics(),
        best_epoch=run.best_epoch,
        wall_time=last.get("wall_time"),
        examples_per_second=run.examples_per_second,
        message=run.message,
    )


def live_row(key, name, color, visible, settings, dataset, epochs, end) -> RunRow:
    """The row of the run being trained: its EpochMetrics so far and how it
    ended (None while it trains)."""
    last = epochs[-1] if epochs else None
    if end is None:
        status = "training"
    else:
        status = {
            "Finished": getattr(end, "reason", "completed"),
            "Stopped": "stopped",
        }.get(type(end).__name__, "failed")
    return RunRow(
        key=key,
        name=name,
        color=color,
        visible=visible,
        live=True,
        status=status,
        settings=settings,
        dataset=dataset,
        epochs_done=len(epochs),
        final=last.as_dict() if last is not None else {},
        best_epoch=last.best_epoch if last is not None else 0,
        wall_time=last.wall_time if last is not None else None,
        examples_per_second=last.examples_per_second if last is not None else 0.0,
        message=getattr(end, "message", ""),
    )


def _clock(seconds: float) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "\u2013"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _metric(row: RunRow, name: str, percent: bool = False):
    value = row.final.get(name)
    if value is None:
        return "\u2013", -math.inf
    # significant digits: a well-fitted loss of 3e-5 is not "0.0000"
    return (f"{value:.1%}" if percent else f"{value:.4g}"), float(value)


def _setting(row: RunRow, name: str, fmt: str = "{}"):
    value = getattr(row.settings, name, None)
    if value is None:
        return "\u2013", ""
    return fmt.format(value), value


# title, header tooltip, (row -> (text, sort value))
COLUMNS = (
    ("Run", "Tick to draw the run's curves; double-click to rename", None),
    ("Status", "How the run ended", lambda r: (r.status, r.status)),
    (
        "Epochs",
        "Epochs trained of those planned",
        lambda r: (
            f"{r.epochs_done}/{getattr(r.settings, 'epochs', '?')}",
            r.epochs_done,
        ),
    ),
    ("Optimizer", "The optimizer", lambda r: _setting(r, "optimizer")),
    (
        "Learning rate",
        "The (initial) learning rate",
        lambda r: _setting(r, "learning_rate", "{:g}"),
    ),
    ("Batch", "Examples per optimizer step", lambda r: _setting(r, "batch_size")),
    (
        "Schedule",
        "How the learning rate changed over the run",
        lambda r: _setting(r, "schedule"),
    ),
    ("Dataset", "The data the run trained on", lambda r: (r.dataset, r.dataset)),
    (
        "Train loss",
        "Training loss of the epoch whose weights the run kept",
        lambda r: _metric(r, "train_loss"),
    ),
    (
        "Val loss",
        (
            "Validation loss of the epoch whose weights the run kept (the "
            "best one where early stopping put its weights back, else the last)"
        ),
        lambda r: _metric(r, "val_loss"),
    ),
    (
        "Train acc.",
        "Training accuracy of the kept epoch",
        lambda r: _metric(r, "train_accuracy", True),
    ),
    (
        "Val acc.",
        "Validation accuracy of the kept epoch",
        lambda r: _metric(r, "val_accuracy", True),
    ),
    (
        "Best epoch",
        "The epoch with the lowest validation loss",
        lambda r: (str(r.best_epoch or "\u2013"), r.best_epoch),
    ),
    (
        "Time",
        "Wall time of the run",
        lambda r: (
            _clock(r.wall_time),
            -math.inf if r.wall_time is None else r.wall_time,
        ),
    ),
    (
        "Examples/s",
        "Training speed",
        lambda r: (
            f"{r.examples_per_second:,.0f}" if r.examples_per_second else "\u2013",
            r.examples_per_second,
        ),
    ),
)


def _settings_tip(row: RunRow) -> str:
    lines = [f"<b>{row.name}</b>: {row.status}"]
    if row.message:
        lines.append(row.message)
    if row.settings is not None:
        items = row.settings.to_dict().items()
        lines.append(", ".join(f"{k} {v}" for k, v in items))
    return "<br>".join(lines)


class RunListModel(QStandardItemModel):
    """One row per run; column 0 holds the tick, the colour and the name."""

    visibility_changed = Signal(str, bool)
    rename_requested = Signal(str, str)

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        for i, (title, tip, _) in enumerate(COLUMNS):
            header = QStandardItem(title)
            header.setToolTip(tip)
            self.setHorizontalHeaderItem(i, header)
        self._rows: list[RunRow] = []
        self._updating = False
        self.itemChanged.connect(self._on_item_changed)

    def keys(self) -> list[str]:
        return [r.key for r in self._rows]

    def row_of(self, key: str) -> int:
        keys = self.keys()
        return keys.index(key) if key in keys else -1

    def run_row(self, key: str) -> RunRow | None:
        i = self.row_of(key)
        return self._rows[i] if i >= 0 else None

    def set_rows(self, rows: list[RunRow]) -> None:
        """Show these runs: rows are updated in place when the runs are the
        same, so an edit in progress and the selection survive."""
        self._updating = True
        try:
            keys, old = [r.key for r in rows], self._rows
            if keys[: len(old)] != self.keys():
                self.removeRows(0, self.rowCount())
                old = []
            for _ in range(len(old), len(rows)):  # new runs come last
                self.appendRow([QStandardItem() for _ in COLUMNS])
            self._rows = list(rows)
            for i, row in enumerate(rows):
                if i >= len(old) or old[i] != row:  # each row costs ~1 ms
                    self._fill(i, row)
        finally:
            self._updating = False

    def update_row(self, row: RunRow) -> None:
        i = self.row_of(row.key)
        if i < 0:
            return
        self._updating = True
        try:
            self._rows[i] = row
            self._fill(i, row)
        finally:
            self._updating = False

    def _fill(self, i: int, row: RunRow) -> None:
        first = self.item(i, 0)
        flags = Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsUserCheckable
        if not row.live:
            flags |= Qt.ItemIsEditable
        _set(first, Qt.DisplayRole, row.name)
        _set(first, KEY_ROLE, row.key)
        _set(first, SORT_ROLE, row.name.lower())
        _set(first, Qt.DecorationRole, QColor(*row.color[:3]))
        _set(first, Qt.CheckStateRole, Qt.Checked if row.visible else Qt.Unchecked)
        _set(first, Qt.ToolTipRole, _settings_tip(row))
        if first.flags() != flags:
            first.setFlags(flags)
        font = QFont()
        font.setItalic(row.live)
        _set(first, Qt.FontRole, font)
        grey = None if row.visible else HIDDEN_TEXT
        for col, (_, _, value) in enumerate(COLUMNS):
            item = self.item(i, col)
            _set(item, Qt.ForegroundRole, grey)
            if value is None:
                continue
            text, sort = value(row)
            _set(item, Qt.DisplayRole, text)
            _set(item, SORT_ROLE, sort)
            _set(item, KEY_ROLE, row.key)
            number = isinstance(sort, (int, float)) and not isinstance(sort, bool)
            side = Qt.AlignRight if number else Qt.AlignLeft
            _set(item, Qt.TextAlignmentRole, side | Qt.AlignVCenter)
            if item.flags() & Qt.ItemIsEditable:
                item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)

    def _on_item_changed(self, item: QStandardItem) -> None:
        if self._updating or item.column() != 0:
            return
        row = self._rows[item.row()]
        visible = item.checkState() == Qt.Checked
        if visible != row.visible:
            self.visibility_changed.emit(row.key, visible)
        name = item.text().strip()
        if name != row.name:
            self.rename_requested.emit(row.key, name)


def _set(item: QStandardItem, role, value) -> None:
    # an unchanged value is not set again: each set repaints the views
    if item.data(role) != value:
        item.setData(value, role)


class _NameDelegate(QStyledItemDelegate):
    """Names a project file can hold: letters, digits, . _ - (no spaces)."""

    def createEditor(self, parent, option, index):
        editor = QLineEdit(parent)
        editor.setValidator(
            QRegularExpressionValidator(QRegularExpression(NAME_PATTERN), editor)
        )
        editor.setToolTip(
            "Letters, digits, . _ and - (the name labels the run's files)"
        )
        return editor


class RunListWidget(QWidget):
    """The runs beside the plots: tick to draw, select to look closer."""

    current_changed = Signal(str)  # "" when none
    color_requested = Signal(list)  # keys
    delete_requested = Signal(list)  # keys
    show_only_requested = Signal(str)
    show_all_requested = Signal()

    def __init__(self, model: RunListModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.title = QLabel("Runs")
        self.title.setObjectName("runListTitle")
        self.title.setStyleSheet("font-weight: bold;")
        self.view = QListView()
        self.view.setModel(model)
        self.view.setModelColumn(0)
        self.view.setIconSize(QSize(12, 12))
        self.view.setSpacing(1)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setEditTriggers(
            QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed
        )
        self.view.setItemDelegate(_NameDelegate(self.view))
        self.view.setToolTip(
            "Tick a run to draw it; select one to see its confusion matrix and "
            "marks. Double-click (or F2) to rename; right-click for more."
        )
        self.view.setContextMenuPolicy(Qt.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        model.modelReset.connect(self._update_buttons)
        model.rowsInserted.connect(self._update_buttons)
        model.rowsRemoved.connect(self._update_buttons)

        self.color_button = _button(
            "Colour\u2026", "Choose the colour of the selected runs"
        )
        self.rename_button = _button("Rename", "Rename the selected run (F2)")
        self.delete_button = _button(
            "Delete\u2026",
            "Delete the selected runs from the project: their curves, "
            "metrics and weights (asks first)",
        )
        self.color_button.clicked.connect(lambda: self._ask(self.color_requested))
        self.rename_button.clicked.connect(self.rename_current)
        self.delete_button.clicked.connect(lambda: self._ask(self.delete_requested))
        self.delete_action = QAction("Delete", self)
        self.delete_action.setShortcut(Qt.Key_Delete)
        self.delete_action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(lambda: self._ask(self.delete_requested))
        self.view.addAction(self.delete_action)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(2)
        for b in (self.color_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # -- selection -----------------------------------------------------------------
    def selected_keys(self) -> list[str]:
        # the list shows one column of many: selectedRows() would want them all
        indexes = self.view.selectionModel().selectedIndexes()
        rows = sorted({i.row() for i in indexes if i.column() == 0})
        keys = self.model.keys()
        return [keys[r] for r in rows if r < len(keys)]

    def current_key(self) -> str:
        index = self.view.currentIndex()
        return index.data(KEY_ROLE) or "" if index.isValid() else ""

    def select(self, key: str) -> None:
        """Make a run the current one, without saying so."""
        row = self.model.row_of(key)
        selection = self.view.selectionModel()
        blocked = selection.blockSignals(True)
        try:
            if row < 0:
                selection.clearSelection()
                selection.setCurrentIndex(
                    self.model.index(-1, 0), QItemSelectionModel.NoUpdate
                )
            else:
                index = self.model.index(row, 0)
                selection.setCurrentIndex(index, QItemSelectionModel.ClearAndSelect)
        finally:
            selection.blockSignals(blocked)
        self.view.viewport().update()
        self._update_buttons()

    def rename_current(self) -> None:
        index = self.view.currentIndex()
        if index.isValid() and index.flags() & Qt.ItemIsEditable:
            self.view.edit(index)

    def _on_current(self, current, _previous) -> None:
        self.current_changed.emit(
            current.data(KEY_ROLE) or "" if current.isValid() else ""
        )
        self._update_buttons()

    def _editable(self, keys) -> list[str]:
        return [k for k in keys if not self.model.run_row(k).live]

    def _ask(self, signal) -> None:
        keys = self.selected_keys()
        if signal is self.delete_requested:
            keys = self._editable(keys)
        if keys:
            signal.emit(keys)

    def _update_buttons(self, *_) -> None:
        keys = self.selected_keys()
        editable = self._editable(keys)
        self.color_button.setEnabled(bool(keys))
        current = self.view.currentIndex()
        self.rename_button.setEnabled(
            current.isValid() and bool(current.flags() & Qt.ItemIsEditable)
        )
        self.delete_button.setEnabled(bool(editable))
        self.delete_action.setEnabled(bool(editable))

    def _menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        if index.isValid():
            key = index.data(KEY_ROLE)
            if key not in self.selected_keys():
                self.view.setCurrentIndex(index)
            menu.addAction(
                "Show only this run", lambda: self.show_only_requested.emit(key)
            )
        menu.addAction("Show all runs", self.show_all_requested.emit)
        if index.isValid():
            menu.addSeparator()
            menu.addAction("Rename", self.rename_current).setEnabled(
                self.rename_button.isEnabled()
            )
            menu.addAction("Colour\u2026", lambda: self._ask(self.color_requested))
            menu.addAction(
                "Delete\u2026", lambda: self._ask(self.delete_requested)
            ).setEnabled(self.delete_button.isEnabled())
        menu.exec(self.view.viewport().mapToGlobal(pos))


class RunTableWidget(QWidget):
    """Every run with its settings and final metrics, sortable by any column."""

    current_changed = Signal(str)

    def __init__(self, model: RunListModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(-1, Qt.AscendingOrder)  # the project's order
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.DoubleClicked)
        self.view.setItemDelegateForColumn(0, _NameDelegate(self.view))
        self.view.setAlternatingRowColors(True)
        self.view.setIconSize(QSize(12, 12))
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.hint = QLabel(
            "Metrics are those of the epoch whose weights each run kept. Click a "
            "header to sort; tick a run to draw it."
        )
        self.hint.setObjectName("runTableHint")
        self.hint.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.hint)
        model.rowsInserted.connect(self._fit)
        model.modelReset.connect(self._fit)

    def _fit(self, *_) -> None:
        if self.isVisible():
            self.view.resizeColumnsToContents()

    def showEvent(self, event):
        super().showEvent(event)
        self.view.resizeColumnsToContents()

    def cell(self, key: str, title: str) -> str:
        """The text shown for a run in a column (by the column's title)."""
        row = self.model.row_of(key)
        col = [c[0] for c in COLUMNS].index(title)
        return self.model.item(row, col).text() if row >= 0 else ""

    def select(self, key: str) -> None:
        row = self.model.row_of(key)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        selection = self.view.selectionModel()
        blocked = selection.blockSignals(True)
        try:
            selection.setCurrentIndex(
                index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
            )
        finally:
            selection.blockSignals(blocked)
        self.view.viewport().update()

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            self.current_changed.emit(current.siblingAtColumn(0).data(KEY_ROLE) or "")


def _button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(False)
    return button
