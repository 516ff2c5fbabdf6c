"""The data panel: choose a dataset, set its options, see a preview (a scatter
for 2-D data, a grid of sample images, a table for tabular data), import a CSV
or an image folder, and switch TensorFlow Playground's input features."""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.datasets import (
    USER_DATASETS,
    DatasetError,
    get_info,
    list_datasets,
)
from playground.core.datasets.plane_features import FEATURES, LABELS, parse_features

PREVIEW_POINTS = 2000
PREVIEW_IMAGES = 24
PREVIEW_ROWS = 50
# TensorFlow Playground's colours: orange negative (class 0), blue positive
CLASS_COLOURS = [
    "#f59322",
    "#0877bd",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
]


class DataPanelWidget(QWidget):
    """Asks for dataset changes with dataset_edited(name, options); shows what
    the session holds with show_dataset(name, options, dataset_or_error)."""

    dataset_edited = Signal(str, dict)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._name = ""
        self._options: dict = {}
        self.choice = QComboBox()
        self.choice.setObjectName("datasetChoice")
        self.choice.setToolTip("The data the network learns from")
        for info in list_datasets():
            if info.name in USER_DATASETS:
                continue
            self.choice.addItem(f"{info.title}", info.name)
            self.choice.setItemData(
                self.choice.count() - 1,
                f"{info.description} ({info.task}, input {list(info.input_shape)})",
                Qt.ToolTipRole,
            )
        self._builtin_count = self.choice.count()
        self.choice.currentIndexChanged.connect(self._on_chosen)
        self.import_csv = QPushButton("Import CSV\u2026")
        self.import_csv.setToolTip("Train on a table of your own: one example per row")
        self.import_csv.clicked.connect(self._import_csv)
        self.import_folder = QPushButton("Import images\u2026")
        self.import_folder.setToolTip(
            "Train on your own images: a folder with one sub-folder per class"
        )
        self.import_folder.clicked.connect(self._import_folder)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("datasetDescription")
        self.options_form = QFormLayout()
        self.option_editors: dict[str, QWidget] = {}
        self._options_key = None  # (dataset, option names) the editors show
        self.features_box = QWidget()
        grid = QGridLayout(self.features_box)
        grid.setContentsMargins(0, 0, 0, 0)
        self.feature_checks: dict[str, QCheckBox] = {}
        for i, name in enumerate(FEATURES):
            box = QCheckBox(LABELS[name])
            box.setToolTip(
                f"Feed the network {LABELS[name]} as an input (TensorFlow "
                "Playground's input features). Products and sines let a small "
                "network draw curved boundaries."
            )
            box.toggled.connect(self._on_features_toggled)
            grid.addWidget(box, i // 3, i % 3)
            self.feature_checks[name] = box
        self.summary = QLabel()
        self.summary.setObjectName("datasetSummary")
        self.summary.setWordWrap(True)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)

        # previews
        self.preview = QStackedWidget()
        self.scatter = pg.PlotWidget()
        self.scatter.setObjectName("dataScatter")
        self.scatter.setBackground("w")
        self.scatter.setAspectLocked(True)
        self.scatter.setMenuEnabled(False)
        self.scatter.setMouseEnabled(False, False)
        self.scatter.hideButtons()
        self.scatter.setFixedHeight(250)
        self.scatter_items = pg.ScatterPlotItem(size=5, pen=pg.mkPen("w", width=0.5))
        self.scatter.addItem(self.scatter_items)
        self.images = QLabel()
        self.images.setAlignment(Qt.AlignHCenter | Qt.AlignTop)
        self.images.setObjectName("dataImages")
        self.table = QTableWidget()
        self.table.setObjectName("dataTable")
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.empty = QLabel()
        for w in (self.scatter, self.images, self.table, self.empty):
            self.preview.addWidget(w)

        top = QHBoxLayout()
        top.addWidget(self.choice, 1)
        imports = QHBoxLayout()
        imports.addWidget(self.import_csv)
        imports.addWidget(self.import_folder)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(imports)
        layout.addWidget(self.description)
        layout.addLayout(self.options_form)
        self.features_title = QLabel("<b>Input features</b>")
        layout.addWidget(self.features_title)
        layout.addWidget(self.features_box)
        layout.addWidget(self.error)
        layout.addWidget(self.summary)
        layout.addWidget(self.preview, 1)

    # -- showing --------------------------------------------------------------------
    def show_dataset(
        self, name: str, options: dict, dataset=None, error: str = ""
    ) -> None:
        self._name, self._options = name, dict(options)
        self.choice.blockSignals(True)
        while self.choice.count() > self._builtin_count:
            self.choice.removeItem(self.choice.count() - 1)
        index = self.choice.findData(name)
        if index < 0:
            path = options.get("path") or ""
            self.choice.addItem(
                f"Your data: {os.path.basename(str(path)) or name}", name
            )
            index = self.choice.count() - 1
        self.choice.setCurrentIndex(index)
        self.choice.blockSignals(False)
        try:
            info = get_info(name)
        except DatasetError:
            info = None
        self.description.setText(info.description if info else "")
        self._build_options(info, options)
        self.error.setText(f"Cannot load the data: {error}" if error else "")
        self._show_preview(dataset)

    def _build_options(self, info, options):
        specs = [
            spec
            for spec in (info.options if info else ())
            if spec.name != "features" and spec.kind != "path"
        ]
        plane = any(spec.name == "features" for spec in (info.options if info else ()))
        key = (info.name if info else None, tuple(spec.name for spec in specs))
        if key == self._options_key:
            # Same dataset: update the editors in place. Rebuilding them here
            # would delete the very spin box whose signal is being handled
            # (a crash), and take the keyboard focus from it on every arrow key.
            for spec in specs:
                self._set_editor_value(
                    self.option_editors[spec.name], options.get(spec.name, spec.default)
                )
        else:
            self._options_key = key
            self._rebuild_option_rows(specs, options)
        self._show_features(plane, options)

    def _rebuild_option_rows(self, specs, options):
        while self.options_form.rowCount():
            row = self.options_form.takeRow(0)
            for item in (row.labelItem, row.fieldItem):
                if item is not None and item.widget() is not None:
                    item.widget().hide()
                    item.widget().deleteLater()  # may be inside its own signal
        self.option_editors = {}
        for spec in specs:
            value = options.get(spec.name, spec.default)
            editor = self._editor(spec, value)
            editor.setToolTip(spec.help)
            editor.setObjectName(f"option_{spec.name}")
            label = QLabel(spec.name.replace("_", " "))
            label.setToolTip(spec.help)
            self.options_form.addRow(label, editor)
            self.option_editors[spec.name] = editor

    @staticmethod
    def _set_editor_value(editor, value) -> None:
        editor.blockSignals(True)
        try:
            if isinstance(editor, QSpinBox):
                editor.setValue(int(value if value is not None else 0))
            elif isinstance(editor, QDoubleSpinBox):
                editor.setValue(float(value or 0))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(max(0, editor.findData(value)))
            elif isinstance(editor, QLineEdit):
                text = "" if value is None else str(value)
                if editor.text().strip() != text:
                    editor.setText(text)
        finally:
            editor.blockSignals(False)

    def _show_features(self, plane, options):
        self.features_title.setVisible(plane)
        self.features_box.setVisible(plane)
        if plane:
            try:
                chosen = parse_features(options.get("features"))
            except DatasetError:
                chosen = ("x1", "x2")
            for fname, box in self.feature_checks.items():
                box.blockSignals(True)
                box.setChecked(fname in chosen)
                box.blockSignals(False)

    def _editor(self, spec, value):
        name = spec.name
        if spec.kind == "int":
            w = QSpinBox()
            w.setRange(
                int(spec.minimum if spec.minimum is not None else -(2**31) + 1),
                int(
                    min(
                        spec.maximum if spec.maximum is not None else 2**31 - 1,
                        2**31 - 1,
                    )
                ),
            )
            w.setValue(int(value if value is not None else 0))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, n=name: self._set_option(n, int(v)))
            return w
        if spec.kind == "float":
            w = QDoubleSpinBox()
            w.setRange(
                spec.minimum if spec.minimum is not None else -1e9,
                spec.maximum if spec.maximum is not None else 1e9,
            )
            w.setValue(float(value or 0))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(lambda v, n=name: self._set_option(n, float(v)))
            return w
        if spec.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(value))
            w.toggled.connect(lambda v, n=name: self._set_option(n, bool(v)))
            return w
        if spec.kind == "choice":
            w = QComboBox()
            for c in spec.choices:
                w.addItem(c, c)
            w.setCurrentIndex(max(0, w.findData(value)))
            w.currentIndexChanged.connect(
                lambda i, n=name, box=w: self._set_option(n, box.itemData(i))
            )
            return w
        w = QLineEdit("" if value is None else str(value))
        w.editingFinished.connect(
            lambda n=name, box=w: self._set_option(n, box.text().strip() or None)
        )
        return w

    def _show_preview(self, ds):
        if ds is None:
            self.summary.setText("")
            self.empty.setText("")
            self.preview.setCurrentWidget(self.empty)
            return
        n_train, n_val = len(ds.x_train), len(ds.x_val)
        what = (
            f"{ds.num_classes} classes"
            if ds.task == "classification"
            else f"{ds.num_targets} target(s)"
        )
        self.summary.setText(
            f"{n_train:,} training and {n_val:,} validation examples, input "
            f"{list(ds.input_shape)}, {what}"
        )
        if ds.is_plane:
            self._scatter(ds)
        elif len(ds.input_shape) in (2, 3) and len(ds.input_shape) >= 2:
            self._image_grid(ds)
        else:
            self._table(ds)

    def _scatter(self, ds):
        pts = np.concatenate([ds.points_train, ds.points_val])[:PREVIEW_POINTS]
        y = np.concatenate([ds.y_train, ds.y_val])[:PREVIEW_POINTS]
        if ds.task == "classification":
            brushes = [
                pg.mkBrush(CLASS_COLOURS[int(c) % len(CLASS_COLOURS)]) for c in y
            ]
        else:
            v = np.clip(y.reshape(-1), -1, 1)
            cmap = pg.ColorMap([-1, 0, 1], ["#f59322", "#e8eaeb", "#0877bd"])
            brushes = [pg.mkBrush(c) for c in cmap.mapToQColor(v)]
        self.scatter_items.setData(pos=pts, brush=brushes)
        self.scatter.setRange(xRange=(-6, 6), yRange=(-6, 6), padding=0.02)
        self.preview.setCurrentWidget(self.scatter)

    def _image_grid(self, ds):
        x = ds.x_train[:PREVIEW_IMAGES]
        if x.ndim == 3:  # (n, length, channels) sequences: show as a table
            self._table(ds)
            return
        n, c, h, w = x.shape
        cols = 8
        rows = (n + cols - 1) // cols
        scale = max(1, 32 // max(h, w))
        gap = 2
        canvas = np.full(
            (rows * (h * scale + gap), cols * (w * scale + gap), 3), 255, np.uint8
        )
        lo, hi = float(x.min()), float(x.max())
        span = hi - lo or 1.0
        for i in range(n):
            img = (x[i] - lo) / span  # (c, h, w)
            img = np.repeat(img, 3, axis=0) if c == 1 else img[:3]
            img = np.kron(img.transpose(1, 2, 0), np.ones((scale, scale, 1)))
            r, q = divmod(i, cols)
            top, left = r * (h * scale + gap), q * (w * scale + gap)
            canvas[top : top + h * scale, left : left + w * scale] = (img * 255).astype(
                np.uint8
            )
        canvas = np.ascontiguousarray(canvas)
        image = QImage(
            canvas.data,
            canvas.shape[1],
            canvas.shape[0],
            canvas.strides[0],
            QImage.Format_RGB888,
        ).copy()
        self.images.setPixmap(QPixmap.fromImage(image))
        labels = ", ".join(
            ds.class_names[int(v)] if ds.class_names else str(v)
            for v in ds.y_train[:cols]
        )
        self.images.setToolTip(f"The first {n} training images; first row: {labels}")
        self.preview.setCurrentWidget(self.images)

    def _table(self, ds):
        x = ds.x_train[:PREVIEW_ROWS].reshape(min(PREVIEW_ROWS, len(ds.x_train)), -1)
        names = list(ds.feature_names) or [f"x{i + 1}" for i in range(x.shape[1])]
        names = names[: x.shape[1]] + [
            f"x{i + 1}" for i in range(len(names), x.shape[1])
        ]
        cols = min(x.shape[1], 20)
        self.table.setColumnCount(cols + 1)
        self.table.setRowCount(len(x))
        self.table.setHorizontalHeaderLabels(names[:cols] + ["target"])
        for r in range(len(x)):
            for c in range(cols):
                self.table.setItem(r, c, QTableWidgetItem(f"{x[r, c]:.3g}"))
            y = ds.y_train[r]
            text = (
                ds.class_names[int(y)]
                if ds.task == "classification" and ds.class_names
                else ", ".join(f"{v:.3g}" for v in np.atleast_1d(y))
            )
            self.table.setItem(r, cols, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.preview.setCurrentWidget(self.table)

    # -- editing --------------------------------------------------------------------
    def _set_option(self, name, value):
        options = dict(self._options)
        options[name] = value
        self.dataset_edited.emit(self._name, options)

    @Slot(int)
    def _on_chosen(self, index):
        name = self.choice.itemData(index)
        if name and name != self._name:
            self.dataset_edited.emit(name, {})

    @Slot()
    def _on_features_toggled(self):
        chosen = [n for n, box in self.feature_checks.items() if box.isChecked()]
        if not chosen:  # the network needs at least one input: undo the click
            self._build_options(get_info(self._name), self._options)
            return
        self._set_option("features", ",".join(chosen))

    @Slot()
    def _import_csv(self):
        path, _ = QFileDialog.getOpenFileName(
            self, "Import CSV", "", "CSV files (*.csv *.csv.gz *.txt)"
        )
        if path:
            self.dataset_edited.emit("csv", {"path": path})

    @Slot()
    def _import_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Import image folder")
        if path:
            self.dataset_edited.emit("image-folder", {"path": path})
