"""Inside a trained CNN: filters, feature maps, top images, saliency, Grad-CAM.

For a run trained in this project: the network is rebuilt from the project's
spec and given the run's weights on a probe thread (ProbeRunner: the newest
request per kind wins, stale results are dropped). The panel only draws what
the probes (playground.core.probes) return.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.filters.images import diverging_rgb
from playground.core.filters.kernels import format_number
from playground.gui.cnn_probe_jobs import filters_job, input_job, model_key, top_job
from playground.gui.probe_runner import ProbeResult, ProbeRunner
from playground.gui.widgets.heat_maps import gray_rgb, heat_overlay
from playground.gui.widgets.image_grid import ImageGridWidget
from playground.gui.widgets.image_tiles import ImageTileWidget
from playground.gui.widgets.probability_bars import ProbabilityBarsWidget

NO_CNN_MESSAGE = (
    "No convolutional network has been trained in this project yet.\n\n"
    "Train LeNet-5 on digits in the Network builder, then come back: this page "
    "then shows its filters, what each layer makes of an image, the images "
    "that excite a channel most, and where the network looks (saliency and "
    "Grad-CAM)."
)


class _Section(QGroupBox):
    def __init__(self, title: str, tooltip: str, parent=None):
        super().__init__(title, parent)
        self.setToolTip(tooltip)
        self.body = QVBoxLayout(self)


# -- the panel -------------------------------------------------------------------------
class CnnInspectorPanel(QWidget):
    """The "Inside a trained CNN" page of the filter lab."""

    # "lenet5": the window should open that template in the builder
    template_requested = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.run = None
        self.filters: list = []  # (name, path, out_channels, (out, in, kh, kw))
        self.inputs: dict | None = None  # the input job's result
        self.top: dict | None = None
        self._dirty = True
        self._seen: set[int] = set()  # ids of the runs listed so far
        self.runner = ProbeRunner(self)
        self.runner.result_ready.connect(self._on_result)
        self.runner.busy_changed.connect(self._on_busy)
        self._build()
        session.runs_changed.connect(self._on_runs_changed)
        session.spec_changed.connect(self._on_spec_changed)
        session.project_loaded.connect(self._on_runs_changed)
        self._fill_runs()

    # -- layout --------------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        root.addWidget(self.stack)

        empty = QWidget()
        ev = QVBoxLayout(empty)
        ev.addStretch(1)
        self.empty_label = QLabel(NO_CNN_MESSAGE)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignCenter)
        # a fixed width lets the wrapped text take the height it needs
        self.empty_label.setFixedWidth(520)
        centred = QHBoxLayout()
        centred.addStretch(1)
        centred.addWidget(self.empty_label)
        centred.addStretch(1)
        ev.addLayout(centred)
        self.template_button = QPushButton("Open LeNet-5 on digits in the builder")
        self.template_button.setToolTip(
            "Loads the LeNet-5 template with the digits at 32x32 into the Network "
            "builder; press Train there"
        )
        self.template_button.clicked.connect(
            lambda: self.template_requested.emit("lenet5")
        )
        ev.addWidget(self.template_button, 0, Qt.AlignHCenter)
        ev.addStretch(2)
        self.stack.addWidget(empty)

        page = QWidget()
        pv = QVBoxLayout(page)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Run"))
        self.run_combo = QComboBox()
        self.run_combo.setToolTip(
            "A run of this project whose weights are kept; the network is the one "
            "in the builder now"
        )
        self.run_combo.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.run_combo.currentIndexChanged.connect(self._on_run_chosen)
        bar.addWidget(self.run_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Input"))
        self.source_combo = QComboBox()
        self.source_combo.addItem("validation example", "example")
        self.source_combo.addItem("the lab's image", "image")
        self.source_combo.setToolTip(
            "Look at an example the network did not train on, or at the filter "
            "lab's image (made gray, resized and scaled like the dataset)"
        )
        self.source_combo.currentIndexChanged.connect(self._on_source_changed)
        bar.addWidget(self.source_combo)
        self.index_spin = QSpinBox()
        self.index_spin.setRange(0, 0)
        self.index_spin.setPrefix("#")
        self.index_spin.setToolTip("Which validation example")
        self.index_spin.valueChanged.connect(self._request_input)
        bar.addWidget(self.index_spin)
        self.invert_check = QCheckBox("invert")
        self.invert_check.setToolTip(
            "The digits are light ink on black: dark ink on light paper has to "
            "be inverted to look like them (set by itself for a light image)"
        )
        self.invert_check.toggled.connect(self._request_input)
        bar.addWidget(self.invert_check)
        bar.addStretch(1)
        self.busy_label = QLabel("")
        bar.addWidget(self.busy_label)
        pv.addLayout(bar)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        pv.addWidget(self.message)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        content = QWidget()
        self.content = content
        cv = QVBoxLayout(content)
        pv.addWidget(scroll, 1)
        scroll.setWidget(content)

        look = _Section(
            "The input and where the network looks",
            "Saliency: how much each pixel changes the predicted class's score "
            "(the gradient). Grad-CAM: which places of the last convolution's "
            "feature maps the predicted class relies on.",
        )
        row = QHBoxLayout()
        self.input_tile = ImageTileWidget("Input", "The image as the network gets it")
        self.bars = ProbabilityBarsWidget()
        self.saliency_tile = ImageTileWidget(
            "Saliency", "|d score / d pixel|: pixels that would change the answer most"
        )
        self.cam_tile = ImageTileWidget(
            "Grad-CAM", "Grad-CAM of the last convolution layer for the predicted class"
        )
        row.addWidget(self.input_tile)
        bars_box = QVBoxLayout()
        self.prediction_label = QLabel("")
        bold = QFont(self.font())
        bold.setBold(True)
        self.prediction_label.setFont(bold)
        bars_box.addWidget(self.prediction_label)
        bars_box.addWidget(self.bars, 1)
        row.addLayout(bars_box)
        row.addWidget(self.saliency_tile)
        row.addWidget(self.cam_tile)
        look.body.addLayout(row)
        alpha_row = QHBoxLayout()
        alpha_row.addWidget(QLabel("Heat map opacity"))
        self.alpha = QSlider(Qt.Horizontal)
        self.alpha.setRange(0, 100)
        self.alpha.setValue(70)
        self.alpha.setToolTip("How strongly the heat maps cover the input")
        self.alpha.valueChanged.connect(self._show_attribution)
        alpha_row.addWidget(self.alpha)
        alpha_row.addStretch(2)
        look.body.addLayout(alpha_row)
        for tile in (self.input_tile, self.saliency_tile, self.cam_tile):
            tile.setMinimumSize(150, 170)
        cv.addWidget(look)

        self.filters_box = _Section(
            "Filters of every convolution layer",
            "Each small square is one filter's kernel (orange negative, blue "
            "positive); hover one for its values",
        )
        fr = QHBoxLayout()
        fr.addWidget(QLabel("Show"))
        self.filter_mode = QComboBox()
        self.filter_mode.addItem("first input channel", "first")
        self.filter_mode.addItem("mean over input channels", "mean")
        self.filter_mode.setToolTip(
            "A filter of a deeper layer has one kernel per input channel: show "
            "the first, or their mean"
        )
        self.filter_mode.currentIndexChanged.connect(self._show_filters)
        fr.addWidget(self.filter_mode)
        fr.addStretch(1)
        self.filters_box.body.addLayout(fr)
        self.filter_rows = QVBoxLayout()
        self.filters_box.body.addLayout(self.filter_rows)
        self.filter_grids: list[ImageGridWidget] = []
        cv.addWidget(self.filters_box)

        self.maps_box = _Section(
            "Feature maps of the input, layer by layer",
            "What each channel of each layer computes for this input (orange "
            "negative, blue positive; hover one for its channel)",
        )
        self.map_rows = QVBoxLayout()
        self.maps_box.body.addLayout(self.map_rows)
        self.map_grids: list[ImageGridWidget] = []
        cv.addWidget(self.maps_box)

        self.top_box = _Section(
            "Images that most activate a channel",
            "The validation images whose mean activation of the chosen channel is "
            "highest: what this channel looks for",
        )
        tr = QHBoxLayout()
        tr.addWidget(QLabel("Layer"))
        self.top_layer = QComboBox()
        self.top_layer.setToolTip("A convolution layer")
        self.top_layer.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.top_layer.currentIndexChanged.connect(self._on_top_layer)
        tr.addWidget(self.top_layer)
        tr.addWidget(QLabel("Channel"))
        self.top_channel = QSpinBox()
        self.top_channel.setToolTip("Which of the layer's filters (from 0)")
        self.top_channel.valueChanged.connect(self._request_top)
        tr.addWidget(self.top_channel)
        tr.addStretch(1)
        self.top_box.body.addLayout(tr)
        self.top_grid = ImageGridWidget(cell=64)
        self.top_box.body.addWidget(self.top_grid)
        cv.addWidget(self.top_box)
        cv.addStretch(1)
        self.stack.addWidget(page)

    # -- inputs from the lab -------------------------------------------------------------
    def set_image(self, array: np.ndarray, name: str) -> None:
        self.image = np.asarray(array, np.float32)
        self.image_name = name
        self.source_combo.setItemText(1, f"the lab's image ({name})")
        # paper is light, the digits' background dark: invert a light image
        self.invert_check.blockSignals(True)
        self.invert_check.setChecked(float(self.image.mean()) > 0.5)
        self.invert_check.blockSignals(False)
        if self.source_combo.currentData() == "image":
            self._request_input()

    def _lab_image(self) -> np.ndarray:
        if self.image is None:
            from playground.core.filters.images import load_sample

            loaded = load_sample("digit")
            self.set_image(loaded.array, loaded.name)
        return self.image

    def shutdown(self) -> None:
        self.runner.shutdown()

    # -- runs --------------------------------------------------------------------------
    @staticmethod
    def _is_cnn(run) -> bool:
        return any(np.ndim(w) == 4 for w in run.weights.values())

    def _fill_runs(self) -> None:
        runs = [r for r in self.session.project.runs if r.weights]
        keep = self.run.name if self.run is not None else None
        self.run_combo.blockSignals(True)
        self.run_combo.clear()
        for r in reversed(runs):  # newest first
            kind = "" if self._is_cnn(r) else " (no convolutions)"
            data = r.dataset.get("name", "?")
            self.run_combo.addItem(f"{r.name} · {data} · {r.ended}{kind}", r)
        self.run_combo.blockSignals(False)
        if not any(self._is_cnn(r) for r in runs):
            self.run = None
            self.stack.setCurrentIndex(0)
            return
        self.stack.setCurrentIndex(1)
        names = [r.name for r in reversed(runs)]
        new_cnn = [r for r in runs if id(r) not in self._seen and self._is_cnn(r)]
        self._seen = {id(r) for r in runs}
        if keep in names and not new_cnn:
            index = names.index(keep)
        else:  # a run just trained is what the user wants to look at
            index = next(i for i, r in enumerate(reversed(runs)) if self._is_cnn(r))
        self.run_combo.setCurrentIndex(index)
        self._on_run_chosen()

    @Slot()
    def _on_runs_changed(self) -> None:
        self._fill_runs()

    @Slot(object)
    def _on_spec_changed(self, spec) -> None:
        self._refresh()

    @Slot()
    def _on_run_chosen(self) -> None:
        self.run = self.run_combo.currentData()
        self._refresh()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._refresh()

    def _refresh(self) -> None:
        """Ask for everything again (another run or network); only while shown:
        a hidden page would rebuild the model on every edit in the builder."""
        if self.run is None:
            return
        if not self.isVisible():
            self._dirty = True
            return
        self._dirty = False
        spec = self._run_spec()
        self.message.setText(
            ""
            if spec == self.session.spec
            else "The network was edited after this run: showing the network "
            "the run trained, with its weights."
        )
        self._key = model_key(self.run, spec)
        self.runner.submit("filters", filters_job(self._key, spec, self.run.weights))
        self._request_input()

    def _run_spec(self):
        """The network the run trained (kept with the run since schema 2);
        the builder's current one for runs from older files."""
        return getattr(self.run, "spec", None) or self.session.spec

    # -- requests ------------------------------------------------------------------------
    def _ready(self) -> bool:
        return self.run is not None and not self._dirty and self.isVisible()

    @Slot()
    def _request_input(self) -> None:
        if not self._ready():
            return
        source = self.source_combo.currentData()
        image = self._lab_image() if source == "image" else None
        self.index_spin.setEnabled(source == "example")
        self.invert_check.setEnabled(source == "image")
        self.runner.submit(
            "input",
            input_job(
                self._key,
                self._run_spec(),
                self.run.weights,
                self.run.dataset,
                source,
                self.index_spin.value(),
                image,
                self.invert_check.isChecked(),
            ),
        )

    @Slot()
    def _on_source_changed(self) -> None:
        self._request_input()

    @Slot()
    def _on_top_layer(self) -> None:
        info = self.top_layer.currentData()
        if info is None:
            return
        self.top_channel.blockSignals(True)
        self.top_channel.setRange(0, info[1] - 1)
        self.top_channel.blockSignals(False)
        self._request_top()

    @Slot()
    def _request_top(self) -> None:
        info = self.top_layer.currentData()
        if not self._ready() or info is None:
            return
        self.runner.submit(
            "top",
            top_job(
                self._key,
                self._run_spec(),
                self.run.weights,
                self.run.dataset,
                info[0],
                self.top_channel.value(),
            ),
        )

    # -- results -------------------------------------------------------------------------
    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.busy_label.setText("Computing…" if busy else "")

    @Slot(object)
    def _on_result(self, result: ProbeResult) -> None:
        if result.error:
            self.message.setText(result.error)
            if result.key == "filters":
                self._clear()
            return
        if result.key == "filters":
            self.filters = result.value
            self._fill_top_layers()
            self._show_filters()
        elif result.key == "input":
            self.inputs = result.value
            self._show_input()
        elif result.key == "top":
            self.top = result.value
            self._show_top()

    def _clear(self) -> None:
        self.filters, self.inputs, self.top = [], None, None
        self.runner.forget("input")
        self.runner.forget("top")
        self._set_grids(self.filter_rows, self.filter_grids, 0)
        self._set_grids(self.map_rows, self.map_grids, 0)
        self.top_grid.set_images([])
        # the layers of a network these weights no longer fit: not offered
        self.top_layer.blockSignals(True)
        self.top_layer.clear()
        self.top_layer.blockSignals(False)
        for tile in (self.input_tile, self.saliency_tile, self.cam_tile):
            tile.set_pixels(None)
        self.bars.set_probabilities([], [], -1)
        self.prediction_label.setText("")

    def _fill_top_layers(self) -> None:
        current = self.top_layer.currentData()
        self.top_layer.blockSignals(True)
        self.top_layer.clear()
        for name, path, out_channels, _ in self.filters:
            self.top_layer.addItem(name, (path, out_channels))
        paths = [f[1] for f in self.filters]
        if current is not None and current[0] in paths:
            self.top_layer.setCurrentIndex(paths.index(current[0]))
        self.top_layer.blockSignals(False)
        self._on_top_layer()

    def _set_grids(self, layout, grids: list, count: int) -> None:
        """``count`` titled grids in ``layout``, reusing the ones there."""
        while len(grids) > count:
            grid = grids.pop()
            layout.removeWidget(grid.title_label)
            layout.removeWidget(grid)
            grid.title_label.deleteLater()
            grid.deleteLater()
        while len(grids) < count:
            title = QLabel("")
            grid = ImageGridWidget()
            grid.title_label = title
            layout.addWidget(title)
            layout.addWidget(grid)
            grids.append(grid)

    @Slot()
    def _show_filters(self) -> None:
        mode = self.filter_mode.currentData()
        self._set_grids(self.filter_rows, self.filter_grids, len(self.filters))
        for grid, (name, _, _, weights) in zip(
            self.filter_grids, self.filters, strict=True
        ):
            kernels = weights[:, 0] if mode == "first" else weights.mean(axis=1)
            limit = float(np.abs(kernels).max()) or 1.0
            tips = [
                f"filter {i}"
                + (" (input channel 0)" if mode == "first" else " (mean of inputs)")
                + ":\n"
                + "\n".join("  ".join(format_number(v) for v in r) for r in k)
                for i, k in enumerate(kernels)
            ]
            grid.set_images(
                [diverging_rgb(k, limit) for k in kernels],
                [str(i) for i in range(len(kernels))],
                tips,
                cell=44,
            )
            out, inp, kh, kw = weights.shape
            grid.title_label.setText(
                f"{name}: {out} filters of {inp}x{kh}x{kw} "
                f"(colours span ±{format_number(limit)})"
            )

    def _show_input(self) -> None:
        r = self.inputs
        names = r["class_names"] or [str(i) for i in range(len(r["probabilities"]))]
        self.index_spin.blockSignals(True)
        self.index_spin.setRange(0, max(0, r["count"] - 1))
        self.index_spin.setSuffix(f" of {r['count']}")
        self.index_spin.blockSignals(False)
        caption = ""
        if r["label"] is not None:
            label = names[r["label"]] if r["label"] < len(names) else r["label"]
            caption = f"label {label}"
        _c, h, w = r["x"].shape
        self.input_tile.set_pixels(gray_rgb(r["x"]), caption or f"{w}x{h}")
        predicted = r["predicted"]
        name = names[predicted] if predicted < len(names) else str(predicted)
        probability = float(r["probabilities"][predicted])
        self.prediction_label.setText(f"Predicted: {name} ({100 * probability:.0f}%)")
        self.bars.set_probabilities(r["probabilities"], names, predicted)
        self._show_attribution()
        self._set_grids(self.map_rows, self.map_grids, len(r["maps"]))
        for grid, (title, maps) in zip(self.map_grids, r["maps"], strict=True):
            limit = float(np.abs(maps).max()) or 1.0
            side = max(maps.shape[1:])
            cell = int(np.clip(side * 2, 36, 64))
            grid.set_images(
                [diverging_rgb(m, limit) for m in maps],
                None,
                [
                    f"{title}, channel {i}: values {format_number(float(m.min()))} "
                    f"to {format_number(float(m.max()))}"
                    for i, m in enumerate(maps)
                ],
                cell=cell,
            )
            grid.title_label.setText(f"{title} (colours span ±{format_number(limit)})")

    @Slot()
    def _show_attribution(self) -> None:
        r = self.inputs
        if r is None:
            return
        alpha = self.alpha.value() / 100
        self.saliency_tile.set_pixels(heat_overlay(r["x"], r["saliency"], alpha))
        self.cam_tile.set_pixels(heat_overlay(r["x"], r["grad_cam"], alpha))

    def _show_top(self) -> None:
        t = self.top
        names = t["class_names"]
        captions, tips = [], []
        for i, (index, score) in enumerate(zip(t["indices"], t["scores"], strict=True)):
            captions.append(f"{float(score):.3g}")
            label = ""
            if t["labels"]:
                v = t["labels"][i]
                label = f", label {names[v] if v < len(names) else v}"
            tips.append(
                f"validation example #{int(index)}{label}: mean activation "
                f"{float(score):.4g}"
            )
        self.top_grid.set_images([gray_rgb(x) for x in t["images"]], captions, tips)
