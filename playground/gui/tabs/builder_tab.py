"""Network builder: the network with its shapes, the dataset and the settings.

This first version shows the network read-only (with live shapes and
parameter counts) and edits the dataset and the main training settings; the
point-and-click layer editor grows here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.datasets import list_datasets
from playground.core.settings import OPTIMIZERS
from playground.core.templates import adapt_to_dataset

USER_DATA = ("csv", "image-folder")


def _shape(shape) -> str:
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _args(layer) -> str:
    return ", ".join(f"{k}={v}" for k, v in layer.args.items())


class NetworkBuilderTab(QWidget):
    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session

        # -- data -----------------------------------------------------------------
        self.dataset_choice = QComboBox()
        self._infos = [i for i in list_datasets() if i.name not in USER_DATA]
        for info in self._infos:
            self.dataset_choice.addItem(f"{info.title} ({info.task})", info.name)
        self.dataset_choice.currentIndexChanged.connect(self._on_dataset_chosen)
        self.dataset_text = QLabel()
        self.dataset_text.setWordWrap(True)
        data_box = self.data_box = QGroupBox("Data")
        data_form = QVBoxLayout(data_box)
        data_form.addWidget(self.dataset_choice)
        data_form.addWidget(self.dataset_text)

        # -- training -----------------------------------------------------------
        self.optimizer = QComboBox()
        for name, text in OPTIMIZERS.items():
            self.optimizer.addItem(name, name)
            self.optimizer.setItemData(self.optimizer.count() - 1, text, Qt.ToolTipRole)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.00001, 10.0)
        self.learning_rate.setSingleStep(0.001)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 100_000)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100_000)
        for w in (self.optimizer,):
            w.currentIndexChanged.connect(self._on_settings_edited)
        for w in (self.learning_rate, self.batch_size, self.epochs):
            w.valueChanged.connect(self._on_settings_edited)
        train_box = self.train_box = QGroupBox("Training")
        form = QFormLayout(train_box)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Epochs", self.epochs)

        left = QVBoxLayout()
        left.addWidget(data_box)
        left.addWidget(train_box)
        left.addStretch(1)

        # -- network --------------------------------------------------------------
        self.network_title = QLabel()
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Layer", "Arguments", "Output shape", "Parameters"])
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().setVisible(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.Stretch)
        self.totals = QLabel()
        self.problem = QLabel()
        self.problem.setObjectName("problemLabel")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.fit_button = QPushButton("Fit network to dataset")
        self.fit_button.setToolTip(
            "Set the input shape and the last layer's size from the dataset"
        )
        self.fit_button.clicked.connect(self._fit_to_dataset)
        note = QLabel(
            "<i>Open a network from File \u25b8 Import network (JSON). "
            "Point-and-click layer editing comes to this tab next.</i>"
        )
        note.setWordWrap(True)
        net_box = QGroupBox("Network")
        net = QVBoxLayout(net_box)
        net.addWidget(self.network_title)
        net.addWidget(self.table, 1)
        net.addWidget(self.totals)
        row = QHBoxLayout()
        row.addWidget(self.problem, 1)
        row.addWidget(self.fit_button)
        net.addLayout(row)
        net.addWidget(note)

        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addWidget(net_box, 2)

        session.spec_changed.connect(self._show_network)
        session.problem_changed.connect(self._show_problem)
        session.dataset_changed.connect(self._show_dataset)
        session.settings_changed.connect(self._show_settings)
        self._show_network()
        self._show_dataset()
        self._show_settings()
        self._show_problem(session.problem)

    # -- session -> widgets -------------------------------------------------------
    @Slot()
    def _show_network(self, *_):
        spec, summary = self.session.spec, self.session.summary
        self.network_title.setText(
            f"<b>{spec.name or 'Network'}</b> \u2014 input {_shape(spec.input_shape)}"
        )
        self.table.setRowCount(len(spec.layers))
        for i, layer in enumerate(spec.layers):
            info = summary.layers[i] if summary else None
            cells = [
                layer.type,
                _args(layer) if layer.type != "Residual" else f"{len(layer.layers)} layers",
                _shape(info.output_shape) if info else "?",
                f"{info.params:,}" if info else "?",
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 3:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, col, item)
        self.table.resizeColumnToContents(0)
        if summary:
            self.totals.setText(
                f"Total parameters: <b>{summary.total_params:,}</b> "
                f"(trainable {summary.trainable_params:,}); output "
                f"{_shape(summary.output_shape)}"
            )
        else:
            self.totals.setText("")

    @Slot(str)
    def _show_problem(self, problem: str):
        self.problem.setText(f"Cannot train: {problem}" if problem else "")
        self.fit_button.setVisible(bool(problem))

    @Slot()
    def _show_dataset(self):
        name = self.session.project.dataset_name
        index = self.dataset_choice.findData(name)
        self.dataset_choice.blockSignals(True)
        if index >= 0:
            self.dataset_choice.setCurrentIndex(index)
        self.dataset_choice.blockSignals(False)
        info = next((i for i in self._infos if i.name == name), None)
        if info:
            self.dataset_text.setText(
                f"{info.description}<br><br>Input {_shape(info.input_shape)}, "
                f"{info.size:,} examples."
            )
        else:
            self.dataset_text.setText(name)

    @Slot()
    def _show_settings(self, *_):
        s = self.session.settings
        widgets = (self.optimizer, self.learning_rate, self.batch_size, self.epochs)
        for w in widgets:
            w.blockSignals(True)
        self.optimizer.setCurrentIndex(self.optimizer.findData(s.optimizer))
        self.learning_rate.setValue(s.learning_rate)
        self.batch_size.setValue(s.batch_size)
        self.epochs.setValue(s.epochs)
        for w in widgets:
            w.blockSignals(False)

    def set_editable(self, editable: bool) -> None:
        """Lock what a running job was started with; the run record keeps it."""
        for w in (self.data_box, self.train_box, self.fit_button):
            w.setEnabled(editable)

    # -- widgets -> session -------------------------------------------------------
    @Slot(int)
    def _on_dataset_chosen(self, index: int):
        name = self.dataset_choice.itemData(index)
        if name and name != self.session.project.dataset_name:
            self.session.set_dataset(name, {})

    @Slot()
    def _on_settings_edited(self, *_):
        self.session.set_settings(
            self.session.settings.replace(
                optimizer=self.optimizer.currentData(),
                learning_rate=float(self.learning_rate.value()),
                batch_size=int(self.batch_size.value()),
                epochs=int(self.epochs.value()),
            )
        )

    @Slot()
    def _fit_to_dataset(self):
        ds = self.session.dataset()
        self.session.set_spec(
            adapt_to_dataset(self.session.spec, ds.input_shape, ds.output_size)
        )
