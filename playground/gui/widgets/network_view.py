"""The network view of the builder: the network drawn live while it trains.

Dense networks of TensorFlow Playground size (at most 8 hidden layers of 16
units, 16 inputs) are drawn as neurons and links (``net_graph``); larger,
convolutional and residual ones as blocks with shapes and previews
(``net_blocks``); an empty or invalid network as a short message.

API::

    view = NetworkViewWidget(parent=None)
    view.set_model(spec, summary, dataset)  # on every edit or dataset change;
                                            # summary None: the spec is invalid
    view.probe() -> np.ndarray | None       # the inputs snapshots are taken on
    view.probe_changed                      # Signal(): hand probe() to the engine
    view.show_snapshot(snapshot)            # live; coalesced, newest wins
    view.show_weights(state_dict)           # trained weights (run end, project)
    view.flush()                            # apply a waiting snapshot now
    view.clear()                            # back to the untrained look
    view.mode() -> "message" | "graph" | "blocks"
    view.heatmap_values()                   # the output over the plane, as shown

The probe: for 2-D points in the plane, the featurized 50 x 50 grid over the
plane, (2500, features), so that every layer's activations are pictures over
the plane; for other data, the validation example chosen in the view, as
(1, *input_shape). A snapshot taken on other inputs still updates the links.

``show_weights`` works out the activations itself: in numpy for dense
networks, through torch for others once torch is loaded (after any run). A
convolutional project opened before any training shows its structure and gets
its previews from the first snapshot.

Cost: nothing is computed while the view is hidden (the newest snapshot waits
for ``showEvent``); pictures are made at most MAX_HZ times a second, less for
networks slow to draw (PAINT_BUDGET), each a few vectorised numpy calls and
QImage builds; paints draw what was built.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.plane_grid import (
    GRID_SIZE,
    as_images,
    colour_values,
    discretize,
    grid_points,
    output_values,
    plane_half_width,
    scale_units,
    upsample_bilinear,
)
from playground.gui.widgets.net_blocks import (
    MAX_BARS,
    MAX_MAPS,
    BlockCanvas,
    Preview,
    Row,
    activation_preview,
    input_preview,
    maps_preview,
)
from playground.gui.widgets.net_forward import layer_outputs
from playground.gui.widgets.net_graph import HEAT_UPSAMPLE, GraphCanvas
from playground.gui.widgets.net_structure import shape_text, stages, unit_layers
from playground.gui.widgets.throttle import drawing

MAX_HZ = 5  # pictures a second while training: smooth enough, cheap enough
# Share of the time spent on pictures while snapshots stream in: a network
# that is slow to draw is drawn less often rather than slowing training.
PAINT_BUDGET = 0.1
MESSAGE, GRAPH, BLOCKS = 0, 1, 2


class NetworkViewWidget(QWidget):
    probe_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.update_count = 0  # snapshots turned into pictures
        self._spec = self._summary = self._dataset = None
        self._columns = None  # UnitLayer list in graph mode
        self._stages = []
        self._probe: np.ndarray | None = None
        self._probe_fits = False
        self._weights: dict | None = None
        self._activations: dict | None = None
        self._step_text = ""
        self._pending = None
        self._last_apply = -1e9
        self._heat_values: np.ndarray | None = None
        self._heat_values_coloured: np.ndarray | None = None
        self._present_ms = 0.0
        self._model_cache: dict = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

        self.example = QSpinBox()
        self.example.setPrefix("Example ")
        self.example.setToolTip("The validation example whose activations are shown")
        self.example.valueChanged.connect(self._on_example)
        self.example_label = QLabel()
        self.show_test = QCheckBox("Show test data")
        self.show_test.setToolTip("Draw the validation points too (dark outline)")
        self.show_test.toggled.connect(self._on_show_test)
        self.discretize = QCheckBox("Discretize output")
        self.discretize.setToolTip("Show the class each point gets instead of how sure")
        self.discretize.toggled.connect(self._on_discretize)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 6, 0)
        for w in (self.example, self.example_label):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.show_test)
        bar.addWidget(self.discretize)

        self.message = QLabel()
        self.message.setAlignment(Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: palette(placeholder-text); padding: 24px;")
        self.graph = GraphCanvas()
        self.blocks = BlockCanvas()
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.blocks)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.stack = QStackedWidget()
        for page in (self.message, self.graph, self.scroll):
            self.stack.addWidget(page)
        # One white page, toolbar included, as TensorFlow Playground's.
        palette = self.palette()
        palette.setColor(QPalette.Window, palette.color(QPalette.Base))
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)
        self._show_message("Add layers to see the network.")

    # -- the model ---------------------------------------------------------------------
    def set_model(self, spec, summary, dataset) -> None:
        same_net = spec == self._spec and (summary is None) == (self._summary is None)
        same_data = dataset is self._dataset
        if same_net and same_data:
            return
        self._spec, self._summary, self._dataset = spec, summary, dataset
        self._model_cache.clear()
        if not same_data:
            self._set_dataset(dataset)
        self._weights = self._activations = None
        self._pending = None
        self._step_text = ""
        self._probe_fits = (
            dataset is not None
            and spec is not None
            and tuple(spec.input_shape) == tuple(dataset.input_shape)
        )
        if spec is None or not spec.layers:
            self._show_message("Add layers to see the network.")
        elif summary is None:
            self._show_message(
                "This network has a problem (see the layer list); it is drawn "
                "again once its layers fit together."
            )
        else:
            self._build()
        self._update_controls()

    def _set_dataset(self, dataset) -> None:
        old = self._probe
        self._half = 6.0
        if dataset is None:
            self._probe = None
        elif dataset.is_plane:
            self._half = plane_half_width(dataset.points_train, dataset.points_val)
            self._grid = grid_points(self._half, GRID_SIZE)
            self._probe = dataset.featurize(self._grid)
        else:
            count = len(dataset.x_val)
            self.example.blockSignals(True)
            self.example.setRange(0, max(count - 1, 0))
            self.example.setValue(min(self.example.value(), max(count - 1, 0)))
            self.example.blockSignals(False)
            self._probe = self._example_probe()
        if not _same_array(old, self._probe):
            self.probe_changed.emit()

    def _example_probe(self):
        ds = self._dataset
        if ds is None or not len(ds.x_val):
            return None
        i = self.example.value()
        return np.ascontiguousarray(ds.x_val[i : i + 1])  # (1, *input_shape)

    def _plane(self) -> bool:
        return self._dataset is not None and self._dataset.is_plane

    def _classification(self) -> bool:
        return self._dataset is not None and self._dataset.task == "classification"

    def _build(self) -> None:
        self._columns = unit_layers(self._spec, self._summary)
        self._stages = stages(self._spec, self._summary)
        if self._columns is not None:
            self._build_graph()
            self.stack.setCurrentIndex(GRAPH)
        else:
            title = ""
            if self._dataset is not None and self._probe_fits:
                title = "over the plane" if self._plane() else "the chosen example"
            shape = shape_text(self._spec.input_shape)
            rows = [Row("Input", title, shape, 0, None)]
            for s in self._stages:
                rows.append(
                    Row(s.title, s.detail, shape_text(s.shape), s.params, str(s.last))
                )
            self.blocks.set_rows(rows)
            self.stack.setCurrentIndex(BLOCKS)
        self._present()

    def _build_graph(self) -> None:
        ds = self._dataset
        n_in = self._spec.input_shape[0]
        if self._plane() and self._probe_fits:
            from playground.core.datasets.plane_features import LABELS

            labels = [LABELS.get(f, f) for f in ds.plane_features]
        elif ds is not None and len(ds.feature_names) == n_in:
            labels = list(ds.feature_names)
        else:
            labels = [f"in {i + 1}" for i in range(n_in)]
        plane = self._plane() and self._probe_fits
        legend = ("-1", "1")
        if self._classification() and len(ds.class_names) == 2:
            legend = (ds.class_names[0], ds.class_names[1])
        self.graph.set_network(labels, self._columns, plane, self._half, legend)
        if plane:
            self.graph.set_points(
                ds.points_train,
                self._point_colours(ds.y_train),
                ds.points_val,
                self._point_colours(ds.y_val),
            )
            self.graph.set_show_test(self.show_test.isChecked())

    def _point_colours(self, y) -> np.ndarray:
        if self._classification():
            return np.where(np.ravel(y) > 0, 1.0, -1.0)
        return np.clip(np.asarray(y, dtype=np.float32)[:, 0], -1, 1)

    def _show_message(self, text: str) -> None:
        self._columns = None
        self.message.setText(text)
        self.stack.setCurrentIndex(MESSAGE)

    def _update_controls(self) -> None:
        page = self.stack.currentIndex()
        plane = self._plane() and page != MESSAGE
        self.show_test.setVisible(plane and page == GRAPH)
        self.discretize.setVisible(plane)
        chooser = page != MESSAGE and self._dataset is not None and not self._plane()
        self.example.setVisible(chooser)
        self.example_label.setVisible(chooser)
        self._update_example_label()

    def _update_example_label(self) -> None:
        ds = self._dataset
        text = ""
        if ds is not None and not ds.is_plane and len(ds.y_val):
            y = ds.y_val[self.example.value()]
            if ds.task == "classification":
                k = int(y)
                name = ds.class_names[k] if k < len(ds.class_names) else str(k)
                text = f"label: {name}"
            else:
                text = "target: " + ", ".join(f"{v:.3g}" for v in np.ravel(y)[:3])
        self.example_label.setText(text)

    # -- the probe ---------------------------------------------------------------------
    def probe(self) -> np.ndarray | None:
        return self._probe

    @Slot(int)
    def _on_example(self, _value: int) -> None:
        self._probe = self._example_probe()
        self._update_example_label()
        self.probe_changed.emit()
        if self._weights is not None:
            # No waiting for the next snapshot (or for a run at all): the
            # weights at hand answer for the new example at once.
            self._activations = self._forward(self._weights)
            self._present()

    # -- snapshots ---------------------------------------------------------------------
    def show_snapshot(self, snapshot) -> None:
        self._pending = snapshot
        if not self.isVisible():
            return  # showEvent applies the newest one
        wait = self.interval_ms() - (time.monotonic() - self._last_apply) * 1000.0
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(int(wait) + 1)

    def interval_ms(self) -> float:
        """Time between two pictures: 1 / MAX_HZ, longer for costly networks."""
        canvas = self.graph if self._columns is not None else self.blocks
        cost = self._present_ms + canvas.last_paint_ms
        return max(1000.0 / MAX_HZ, cost / PAINT_BUDGET)

    @Slot()
    def flush(self) -> None:
        self._timer.stop()
        snapshot, self._pending = self._pending, None
        if snapshot is None:
            return
        self._weights = snapshot.weights
        acts = snapshot.activations or None
        if acts is not None and not self._fits_probe(acts):
            acts = None
        self._activations = acts
        self._step_text = f"step {snapshot.step:,} · epoch {snapshot.epoch:.1f}"
        with drawing():
            self._present()

    def show_weights(self, state_dict) -> None:
        self._pending = None
        self._timer.stop()
        self._weights = dict(state_dict) if state_dict else None
        self._activations = self._forward(self._weights) if self._weights else None
        self._step_text = "trained weights" if self._weights else ""
        self._present()

    def clear(self) -> None:
        self._pending = None
        self._timer.stop()
        self._weights = self._activations = None
        self._step_text = ""
        self._present()

    def _forward(self, weights):
        if not self._probe_fits or self._summary is None:
            return None
        return layer_outputs(
            self._spec, self._summary, weights, self._probe, self._model_cache
        )

    def _fits_probe(self, acts: dict) -> bool:
        if self._probe is None or not self._probe_fits:
            return False
        first = next(iter(acts.values()), None)
        return first is not None and len(first) == len(self._probe)

    def showEvent(self, event):
        super().showEvent(event)
        if self._pending is not None:
            QTimer.singleShot(0, self.flush)

    # -- pictures ----------------------------------------------------------------------
    def _present(self) -> None:
        if self._summary is None or self._spec is None:
            return
        start = time.perf_counter()
        self.update_count += 1
        if self._columns is not None:
            self._present_graph()
        else:
            self._present_blocks()
        self._last_apply = time.monotonic()
        self._present_ms = (time.perf_counter() - start) * 1000.0

    def _present_graph(self) -> None:
        columns, acts, w = self._columns, self._activations, self._weights or {}
        weights, biases = [], []
        for col in columns:
            weight = w.get(col.weight_key)
            if weight is None or weight.shape != (col.units, self._inputs_of(col)):
                weights, biases = [None] * len(columns), [None] * len(columns)
                break
            weights.append(np.asarray(weight))
            biases.append(
                None if col.bias_key is None else np.asarray(w.get(col.bias_key))
            )
        plane = self._plane() and self._probe_fits
        pictures = [None] * (len(columns) + 1)
        values = [None] * (len(columns) + 1)
        heat = bars = None
        self._heat_values = None
        if plane:
            pictures[0] = self._input_pictures()
        elif self._probe is not None and self._probe_fits:
            values[0] = scale_units(self._probe[0], bounded=False)
        if acts is not None and all(
            np.shape(acts.get(str(c.last)))[1:] == (c.units,) for c in columns
        ):
            outs = [np.asarray(acts[str(c.last)]) for c in columns]
            if plane:
                for k, (col, out) in enumerate(zip(columns, outs)):
                    pictures[k + 1] = self._pictures_of(col, out)
                heat = self._heatmap(outs[-1])
                if columns[-1].units == 1 and self._classification():
                    pictures[-1] = self._heat_values_coloured[None]
            else:
                for k, (col, out) in enumerate(zip(columns, outs)):
                    values[k + 1] = scale_units(out[0], col.bounded)
                bars = self._bars(outs[-1][0])
        self.graph.set_state(
            pictures, values, weights, biases, heat, bars, self._step_text
        )

    def _inputs_of(self, col) -> int:
        return int(self._summary.layers[col.first].input_shape[-1])

    def _input_pictures(self) -> np.ndarray:
        shown = scale_units(self._probe, bounded=False, axis=0)  # per feature
        pictures = as_images(shown, GRID_SIZE)
        return discretize(pictures) if self.discretize.isChecked() else pictures

    def _pictures_of(self, col, out: np.ndarray) -> np.ndarray:
        pictures = as_images(scale_units(out, col.bounded, axis=0), GRID_SIZE)
        return discretize(pictures) if self.discretize.isChecked() else pictures

    def _heatmap(self, out: np.ndarray) -> np.ndarray:
        classification = self._classification()
        softmax_end = self._spec.layers[-1].type == "Softmax"
        values = output_values(out, classification, probabilities=softmax_end)
        grid = values.reshape(GRID_SIZE, GRID_SIZE)  # task units
        coloured = colour_values(grid, classification)
        big = upsample_bilinear(coloured, HEAT_UPSAMPLE)
        if self.discretize.isChecked():
            coloured, big = discretize(coloured), discretize(big)
            grid = (coloured > 0).astype(np.float32) if classification else coloured
        self._heat_values = grid
        self._heat_values_coloured = coloured
        return big

    def _bars(self, out: np.ndarray):
        ds = self._dataset
        out = np.ravel(out)
        true = None
        if ds is not None and len(ds.y_val):
            y = ds.y_val[self.example.value()]
            true = int(y) if ds.task == "classification" else None
        if self._classification() and len(out) >= 1:
            if len(out) == 1:
                p1 = float(output_values(out[None], True)[0])
                probs = np.array([1 - p1, p1], np.float32)
            elif self._spec.layers[-1].type == "Softmax":
                probs = out
            else:
                e = np.exp(out - out.max())
                probs = e / e.sum()
            names = list(ds.class_names) or [str(i) for i in range(len(probs))]
            names = (names + [str(i) for i in range(len(probs))])[: len(probs)]
            return names, probs, True, true, f"example {self.example.value()}"
        labels = [f"out {i + 1}" for i in range(len(out))]
        return labels, out, False, None, f"example {self.example.value()}"

    def _present_blocks(self) -> None:
        plane = self._plane() and self._probe_fits
        previews: dict[int, Preview] = {}
        if plane:
            previews[0] = maps_preview(self._input_pictures(), scaled=True)
        elif self._probe is not None and self._probe_fits:
            previews[0] = input_preview(self._probe[0])
        acts = self._activations or {}
        last = len(self._stages) - 1
        for r, stage in enumerate(self._stages):
            a = acts.get(str(stage.last))
            if a is None or np.shape(a)[1:] != stage.shape:
                continue  # a snapshot of another network
            a = np.asarray(a)
            if plane and a.ndim == 2:
                # dense layers too wide to draw as neurons: pictures over the
                # plane of their first units, and the output as its heatmap
                if r == last:
                    pictures = self._heatmap(a)[None]
                else:
                    pictures = self._pictures_of(stage, a[:, :MAX_MAPS])
                previews[r + 1] = maps_preview(pictures, scaled=True)
                previews[r + 1].total = a.shape[1]
            elif (
                r == last
                and self._classification()
                and a.ndim == 2
                and a.shape[1] <= MAX_BARS
            ):
                labels, probs, _, true, _ = self._bars(a[0])
                previews[r + 1] = Preview("bars", bars=(labels, probs, True, true))
            else:
                previews[r + 1] = activation_preview(a[0], stage.bounded)
        self.blocks.set_previews(previews, self._step_text)

    # -- toggles -----------------------------------------------------------------------
    @Slot(bool)
    def _on_show_test(self, show: bool) -> None:
        self.graph.set_show_test(show)

    @Slot(bool)
    def _on_discretize(self, _on: bool) -> None:
        self._present()

    # -- for tests and callers that want to know what is shown -------------------------
    def mode(self) -> str:
        return ("message", "graph", "blocks")[self.stack.currentIndex()]

    def heatmap_values(self) -> np.ndarray | None:
        """The output over the plane as shown: class-1 probability (0 or 1 when
        discretized) or the regression value, (GRID_SIZE, GRID_SIZE)."""
        return self._heat_values


def _same_array(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return a.shape == b.shape and np.array_equal(a, b)
