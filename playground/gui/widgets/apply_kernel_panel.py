"""The filter lab's "Apply a kernel" page: the kernel and the operation on the
left, the input and the output side by side, hover explanations, the
step-through.

Every change is checked at once on the GUI thread (`pipeline_shape` needs no
torch), so an impossible setting shows its message immediately. A possible one
is computed at once on the window's thread when the work is small (up to a
512x512 RGB image with a 7x7 kernel: a few milliseconds), so the picture
follows an edit within one frame; larger work goes to the page's job runner,
off the window's thread, where the newest request wins. The hand-over is not
free: under Python's lock the job thread and the window take turns, and a
small job waited 20-35 ms for its picture that way against 3-8 ms in place
(docs/benchmarks.md).
"""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QRectF, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.filters.convolution import (
    ConvSettings,
    ConvSettingsError,
    formula_text,
    pipeline_shape,
    resolve_padding,
)
from playground.core.filters.explain import explain_pixel, explain_stack_pixel
from playground.core.filters.images import pixels_uint8
from playground.core.filters.kernels import format_number
from playground.gui.apply_kernel_job import (
    FilterRequest,
    FilterResult,
    compute_filter,
    estimated_work,
)
from playground.gui.jobs import JobRunner
from playground.gui.widgets.conv_controls import ConvControlsWidget
from playground.gui.widgets.filter_image_view import (
    ColorBarWidget,
    FeatureMapGridWidget,
    ImageViewWidget,
)
from playground.gui.widgets.kernel_editor import KernelEditorWidget
from playground.gui.widgets.pixel_explanation import MAX_TERMS, PixelExplanationWidget
from playground.gui.widgets.step_through import StepThroughWidget

COLOUR_MODES = ("auto", "diverging", "image")
CHANNEL_NAMES = ("red", "green", "blue")
# Multiply-adds computed in place on the window's thread: 512x512 RGB with a
# 7x7 kernel, 3-8 ms with the colours. Beyond it the job thread keeps the
# window responsive (a 2048x2048 photo takes 50-150 ms).
SYNC_WORK = 3 * 512 * 512 * 7 * 7
SUBMIT_EVENT = QEvent.Type(QEvent.registerEventType())


def output_rect(settings: ConvSettings, kernel: int, out_hw, pooling) -> QRectF:
    """Where the output lies in input pixel coordinates: each output pixel
    centred on the middle of the window that made it, S pixels wide (times
    the pooling stride), so input and output can share zoom and pan."""
    left, _, top, _ = resolve_padding(settings, kernel)
    s = settings.stride
    half_span = settings.dilation * (kernel - 1) / 2
    step = s
    first = 0.0
    if pooling is not None:
        _, size, stride = pooling
        step = s * stride
        first = (size - 1) / 2 * s
    x0 = first - left + half_span + 0.5 - step / 2
    y0 = first - top + half_span + 0.5 - step / 2
    h, w = out_hw
    return QRectF(x0, y0, w * step, h * step)


# -- the page --------------------------------------------------------------------
class ApplyKernelPanel(QWidget):
    output_ready = Signal()
    output_failed = Signal(str)
    image_requested = Signal(object, str)  # the six-filter example's image

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.result: FilterResult | None = None
        self.problem = ""
        self._hover: tuple | None = None  # ("out", row, col) / ("map", i, r, c)
        self._step_dirty = True
        self.jobs = JobRunner(self, "filter-lab", progressive=True)
        self.jobs.result_ready.connect(self._on_result)
        self.jobs.failed.connect(self._on_failed)
        self._submit_posted = False
        self._closed = False

        # left: kernel and operation
        self.editor = KernelEditorWidget()
        self.controls = ConvControlsWidget()
        self.formula_w = QLabel()
        self.formula_w.setObjectName("formulaWidth")
        self.formula_h = QLabel()
        self.formula_h.setObjectName("formulaHeight")
        self.pool_formula = QLabel()
        for label in (self.formula_w, self.formula_h, self.pool_formula):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.formula_w.setToolTip(
            "Output width: W input width, K kernel size, P padding, S stride"
        )
        self.formula_h.setToolTip("Output height, the same formula with the height H")
        kernel_box = QGroupBox("Kernel")
        QVBoxLayout(kernel_box).addWidget(self.editor)
        op_box = QGroupBox("Operation")
        QVBoxLayout(op_box).addWidget(self.controls)
        size_box = QGroupBox("Output size")
        size_layout = QVBoxLayout(size_box)
        for label in (self.formula_w, self.formula_h, self.pool_formula):
            size_layout.addWidget(label)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(2, 2, 2, 2)
        left_layout.addWidget(kernel_box, 1)
        # the formula right under the kernel, above the settings it depends
        # on: at the bottom it was out of sight even at 1400x900
        left_layout.addWidget(size_box)
        left_layout.addWidget(op_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setMinimumWidth(300)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        # right: the pictures
        self.message = QLabel()
        self.message.setObjectName("filterMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(
            "color: #b3261e; background: #fdecea; padding: 4px; border-radius: 3px;"
        )
        self.message.hide()
        self.in_view = ImageViewWidget("input")
        self.out_view = ImageViewWidget("output")
        self.out_view.link_to(self.in_view)
        self.maps_view = FeatureMapGridWidget()
        self.out_stack = QStackedWidget()
        self.out_stack.addWidget(self.out_view)
        self.out_stack.addWidget(self.maps_view)
        pictures = QSplitter(Qt.Horizontal)
        pictures.addWidget(self.in_view)
        pictures.addWidget(self.out_stack)

        self.colours = QComboBox()
        self.colours.addItems(COLOUR_MODES)
        self.colours.setToolTip(
            "auto: a picture (gray or RGB) for kernels whose weights add up to a "
            "positive number, orange-white-blue for signed outputs (edges) of a "
            "gray image.\ndiverging: orange (negative), white (0), blue (positive); "
            "of an RGB output, the channel chosen on the right.\nimage: the "
            "output as a picture, 0 black and 1 white."
        )
        self.auto_range = QRadioButton("Auto")
        self.auto_range.setChecked(True)
        self.auto_range.setToolTip(
            "Signed outputs: from minus to plus the 99.5th percentile of the "
            "absolute values, so a few extreme pixels do not wash the rest out "
            "(they take the end colours); pictures: 0 .. 1"
        )
        self.fixed_range = QRadioButton("Fixed")
        self.fixed_range.setToolTip("Keep the same range while you edit, to compare")
        group = QButtonGroup(self)
        group.addButton(self.auto_range)
        group.addButton(self.fixed_range)
        self.range_min = QDoubleSpinBox()
        self.range_max = QDoubleSpinBox()
        for spin, value in ((self.range_min, -1.0), (self.range_max, 1.0)):
            spin.setRange(-1e6, 1e6)
            spin.setDecimals(3)
            spin.setSingleStep(0.1)
            spin.setValue(value)
            spin.setEnabled(False)
        self.range_min.setToolTip("The value drawn with the lowest colour")
        self.range_max.setToolTip("The value drawn with the highest colour")
        self.color_bar = ColorBarWidget()
        self.timing = QLabel()
        # a fixed width: a label that grows with its text relays the row out
        # and repaints the page after every edit
        self.timing.setMinimumWidth(self.timing.fontMetrics().horizontalAdvance(
            "0000 ms (PyTorch loaded first)") // 2)
        self.timing.setToolTip(
            "Time to convolve and colour the output (on the window's thread "
            "for up to 512x512 RGB with a 7x7 kernel, else off it)"
        )
        self.explain_channel = QComboBox()
        self.explain_channel.setObjectName("outputChannel")
        self.explain_channel.setToolTip(
            "Which channel's multiply-and-add hovering explains, and which "
            "channel 'diverging' colours show"
        )
        self.explain_channel.addItems(list(CHANNEL_NAMES))
        self.explain_channel.hide()
        range_row = QHBoxLayout()
        range_row.addWidget(QLabel("Colours"))
        range_row.addWidget(self.colours)
        range_row.addWidget(self.explain_channel)
        range_row.addWidget(QLabel("Range"))
        range_row.addWidget(self.auto_range)
        range_row.addWidget(self.fixed_range)
        range_row.addWidget(self.range_min)
        range_row.addWidget(self.range_max)
        range_row.addWidget(self.color_bar, 1)
        range_row.addWidget(self.timing)

        self.explanation = PixelExplanationWidget()
        whole = QWidget()
        whole_layout = QVBoxLayout(whole)
        whole_layout.setContentsMargins(2, 2, 2, 2)
        whole_layout.addWidget(pictures, 1)
        whole_layout.addLayout(range_row)
        whole_layout.addWidget(self.explanation)
        self.step = StepThroughWidget()
        self.views = QTabWidget()
        # no frame around the pages: repainting it cost ~1.4 ms per output
        self.views.setDocumentMode(True)
        self.views.addTab(whole, "Whole image")
        self.views.addTab(self.step, "Step through")
        self.views.setTabToolTip(
            1, "Slide the kernel over a small crop, one pixel at a time"
        )
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.message)
        right_layout.addWidget(self.views, 1)

        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.editor.kernel_changed.connect(self.schedule)
        self.editor.message.connect(self.show_problem)
        self.editor.six_example.clicked.connect(self.load_six_example)
        self.controls.changed.connect(self.schedule)
        self.colours.currentIndexChanged.connect(self.schedule)
        self.fixed_range.toggled.connect(self._on_range_mode)
        self.range_min.valueChanged.connect(self.schedule)
        self.range_max.valueChanged.connect(self.schedule)
        self.out_view.hovered.connect(self._on_out_hover)
        self.in_view.hovered.connect(self._on_in_hover)
        self.maps_view.hovered.connect(self._on_map_hover)
        self.explain_channel.currentIndexChanged.connect(self._on_channel)
        self.views.currentChanged.connect(self._on_view_tab)

    # -- inputs --------------------------------------------------------------
    def set_image(
        self, array: np.ndarray, name: str, pixels: np.ndarray | None = None
    ) -> None:
        """The lab's image; `pixels`, its uint8 picture, when the loading job
        made it already (a 12 MP photo's took 0.5 s on the window's thread)."""
        self.image = array
        self.image_name = name
        self._hover = None  # its pixel may not exist in the new image
        channels = array.shape[0]
        self.editor.set_channels_available(channels)
        if pixels is None:
            pixels = self._input_pixels(array)
        self.in_view.set_pixels(pixels, fit=True)
        self.in_view.set_title(f"input: {name}, {array.shape[2]}x{array.shape[1]}")
        self.explain_channel.setVisible(channels == 3)
        self.schedule()

    @staticmethod
    def _input_pixels(array) -> np.ndarray:
        return pixels_uint8(array, 0.0, 1.0)

    def request(self) -> FilterRequest | None:
        if self.image is None:
            return None
        pool_kind, pool_size, pool_stride = self.controls.pooling()
        fixed = None
        if self.fixed_range.isChecked():
            fixed = (self.range_min.value(), self.range_max.value())
        return FilterRequest(
            image=self.image,
            kernel=self.editor.kernel_for(self.image.shape[0]),
            settings=self.controls.settings(),
            activation=self.controls.activation_name(),
            pool_kind=pool_kind,
            pool_size=pool_size,
            pool_stride=pool_stride,
            colours=self.colours.currentText(),
            fixed_range=fixed,
            channel=max(0, self.explain_channel.currentIndex()),
        )

    @Slot()
    def schedule(self, *_) -> None:
        """Recompute after a change, once for all the changes of one event (a
        preset sets several things). Through a posted event, not a 0 ms
        timer: posted events come before the repaint Qt posts at low
        priority, so the new output is painted in the same repaint as the edit
        itself; after a timer the window was painted twice, ~6 ms each, the
        first time with the old output."""
        if not self._submit_posted:
            self._submit_posted = True
            QCoreApplication.postEvent(self, QEvent(SUBMIT_EVENT))

    def event(self, event) -> bool:
        if event.type() == SUBMIT_EVENT:
            if self._closed:
                return True
            self._submit_posted = False
            self._submit()
            return True
        return super().event(event)

    @Slot()
    def _submit(self) -> None:
        req = self.request()
        if req is None:
            return
        self._update_formulas(req)
        try:
            pipeline_shape(
                req.image.shape,
                req.kernel.shape,
                req.settings,
                req.pool_kind,
                req.pool_size,
                req.pool_stride,
            )
            if (
                req.fixed_range is not None
                and not req.fixed_range[1] > req.fixed_range[0]
            ):
                raise ConvSettingsError("the range's maximum must be above its minimum")
        except ConvSettingsError as exc:
            self.jobs.cancel()  # a result for older settings must not land
            self.show_problem(str(exc), output=True)
            return
        if self._small(req):
            # in place: no hand-over to the job thread, the picture is painted
            # in the same pass of the event loop; a job still running for an
            # older request must not land after it
            self.jobs.cancel()
            try:
                result = compute_filter(req)
            except Exception as exc:  # noqa: BLE001 - shown in place, as a job's
                self._on_failed(0, exc)
            else:
                self._on_result(0, result)
        else:
            self.jobs.submit(compute_filter, req)
        self._step_dirty = True
        if self.views.currentIndex() == 1:
            self._update_step()

    @staticmethod
    def _small(req: FilterRequest) -> bool:
        """Whether the request is computed in place: small work, and PyTorch
        already loaded (its import takes seconds, never on the window's
        thread)."""
        if "torch" not in sys.modules:
            return False
        out_shape = pipeline_shape(req.image.shape, req.kernel.shape, req.settings)
        return estimated_work(req, out_shape) <= SYNC_WORK

    def _update_formulas(self, req: FilterRequest) -> None:
        k = req.kernel.shape[-1]
        _, height, width = req.image.shape
        try:
            self.formula_w.setText("Width: " + formula_text(width, k, req.settings))
            self.formula_h.setText(
                "Height: " + formula_text(height, k, req.settings, symbol="H")
            )
        except ConvSettingsError as exc:
            self.formula_w.setText(f"Width: {exc}")
            self.formula_h.setText("")
        if req.pool_kind is None:
            self.pool_formula.setText("")
            self.pool_formula.hide()
            return
        self.pool_formula.show()
        try:
            _, h, w = pipeline_shape(req.image.shape, req.kernel.shape, req.settings)
            ph, pw = (
                (h - req.pool_size) // req.pool_stride + 1,
                (w - req.pool_size) // req.pool_stride + 1,
            )
            self.pool_formula.setText(
                f"{req.pool_kind} pooling {req.pool_size}x{req.pool_size}, stride "
                f"{req.pool_stride}: ({w} - {req.pool_size}) / {req.pool_stride} + 1 "
                f"= {pw} wide, {ph} high"
            )
        except ConvSettingsError:
            self.pool_formula.setText("")

    # -- results -----------------------------------------------------------------
    def show_problem(self, text: str, output: bool = False) -> None:
        """A message in place; with output=True the output shows it instead of
        a stale picture."""
        self.problem = text
        self.message.setText(text)
        self.message.show()
        if output:
            self.result = None
            self.out_stack.setCurrentWidget(self.out_view)
            self.out_view.show_message(text)
            self.out_view.set_title("output: cannot be computed")
            self.explanation.clear("Fix the settings to see the output.")
            self.in_view.set_highlight(None)
            self.output_failed.emit(text)

    def _clear_problem(self) -> None:
        self.problem = ""
        self.message.hide()

    @Slot(int, object)
    def _on_result(self, _id: int, result: FilterResult) -> None:
        self.result = result
        self._clear_problem()
        req = result.request
        out = result.output
        if req.kernel.ndim == 4:
            titles = [
                f"map {i + 1} ({out.shape[2]}x{out.shape[1]})"
                for i in range(out.shape[0])
            ]
            self.maps_view.set_maps(result.pixels, titles)
            self.out_stack.setCurrentWidget(self.maps_view)
            shape_text = f"{out.shape[2]}x{out.shape[1]}x{out.shape[0]}"
            self.in_view.set_title(
                f"input: {self.image_name}, {req.image.shape[2]}x{req.image.shape[1]}"
                f"x{req.image.shape[0]} \u2192 {shape_text}"
            )
        else:
            pooling = (
                (req.pool_kind, req.pool_size, req.pool_stride)
                if req.pool_kind
                else None
            )
            rect = output_rect(
                req.settings, req.kernel.shape[-1], out.shape[1:], pooling
            )
            self.out_view.set_pixels(result.pixels[0], rect)
            title = f"output: {out.shape[2]}x{out.shape[1]}"
            if result.channel is not None:
                title += f", {CHANNEL_NAMES[result.channel]} channel"
            self.out_view.set_title(title)
            self.out_stack.setCurrentWidget(self.out_view)
        self.color_bar.set_range(
            result.low,
            result.high,
            result.diverging
            and (out.shape[0] != 3 or result.channel is not None)
            or req.kernel.ndim == 4,
        )
        ms = result.seconds * 1000
        self.timing.setText(
            f"{ms:.1f} ms" if ms < 500 else f"{ms:.0f} ms (PyTorch loaded first)"
        )
        if not self.fixed_range.isChecked():
            for spin, value in (
                (self.range_min, result.low),
                (self.range_max, result.high),
            ):
                spin.blockSignals(True)
                spin.setValue(value)
                spin.blockSignals(False)
        self._refresh_hover()
        self.output_ready.emit()

    @Slot(int, object)
    def _on_failed(self, _id: int, exc) -> None:
        if isinstance(exc, ConvSettingsError):
            self.show_problem(str(exc), output=True)
        else:
            self.show_problem(f"Could not compute the output: {exc}", output=True)

    @Slot(bool)
    def _on_range_mode(self, fixed: bool) -> None:
        self.range_min.setEnabled(fixed)
        self.range_max.setEnabled(fixed)
        self.schedule()

    def shown_output(self) -> np.ndarray | None:
        return None if self.result is None else self.result.output

    # -- hover ---------------------------------------------------------------------
    @Slot(int, int)
    def _on_out_hover(self, row: int, col: int) -> None:
        self._hover = ("out", row, col) if row >= 0 else None
        self._refresh_hover()

    @Slot(int, int, int)
    def _on_map_hover(self, index: int, row: int, col: int) -> None:
        self._hover = ("map", index, row, col) if index >= 0 else None
        self._refresh_hover()

    @Slot(int, int)
    def _on_in_hover(self, row: int, col: int) -> None:
        if row < 0 or self.image is None or self._hover is not None:
            return
        values = ", ".join(format_number(v) for v in self.image[:, row, col])
        self.explanation.clear(f"input row {row}, column {col}: {values}")

    def explain_at(
        self, row: int, col: int, map_index: int | None = None
    ) -> str | None:
        """Explain output pixel (row, col) as hovering does; returns the text,
        or None when there is no such pixel (no output, a map index for a
        single output or none for a stack, outside the output)."""
        r = self.result
        if r is None or (map_index is not None) != (r.request.kernel.ndim == 4):
            return None
        out = r.output
        if not (0 <= row < out.shape[1] and 0 <= col < out.shape[2]) or (
            map_index is not None and not 0 <= map_index < out.shape[0]
        ):
            return None
        self._hover = (
            ("out", row, col) if map_index is None else ("map", map_index, row, col)
        )
        self._refresh_hover()
        return self.explanation.text.text()

    @Slot()
    def _refresh_hover(self, *_) -> None:
        r = self.result
        if self._hover is None or r is None:
            self.in_view.set_highlight(None)
            self.out_view.set_highlight(None)
            self.maps_view.set_highlight(-1, None)
            if r is not None:
                self.explanation.clear(
                    "Hover over the output to see how a pixel is made."
                )
            return
        req = r.request
        if self._hover[0] == "map":
            _, index, row, col = self._hover
            channel = index
        else:
            _, row, col = self._hover
            index = None
            channel = (
                max(0, self.explain_channel.currentIndex())
                if req.image.shape[0] == 3
                else 0
            )
        out = r.output
        if not (0 <= row < out.shape[1] and 0 <= col < out.shape[2]):
            self._hover = None  # the output shrank under the mouse
            self._refresh_hover()
            return
        y, x = row, col
        lines = []
        if req.pool_kind is not None:
            before = r.before_pool[channel]
            y0, x0 = row * req.pool_stride, col * req.pool_stride
            block = before[y0 : y0 + req.pool_size, x0 : x0 + req.pool_size]
            if req.pool_kind == "max":
                dy, dx = np.unravel_index(int(np.argmax(block)), block.shape)
                y, x = y0 + int(dy), x0 + int(dx)
                lines.append(
                    f"max pooling: the largest of a {req.pool_size}x{req.pool_size} "
                    f"window is the one at conv row {y}, column {x}"
                )
            else:
                lines.append(
                    f"avg pooling: the mean of {block.size} values "
                    f"({', '.join(format_number(v) for v in block.ravel()[:9])}"
                    f"{', …' if block.size > 9 else ''}); the first is explained"
                )
        if index is not None:
            stack = explain_stack_pixel(
                req.image, req.kernel, req.settings, y, x, index
            )
            part_channel = (
                max(0, self.explain_channel.currentIndex())
                if req.image.shape[0] == 3
                else 0
            )
            ex = stack.parts[part_channel]
            conv_value = stack.value
            text = stack.text(max_terms=MAX_TERMS)
            where = f"map {index + 1}, row {row}, column {col}"
        else:
            ex = explain_pixel(req.image, req.kernel, req.settings, y, x, channel)
            conv_value = ex.value
            text = ex.text(max_terms=MAX_TERMS)
            name = ("red", "green", "blue")[channel] if req.image.shape[0] == 3 else ""
            where = f"row {row}, column {col}" + (f", {name}" if name else "")
        if req.activation != "none":
            activated = (r.before_pool if r.before_pool is not None else out)[
                channel, y, x
            ]
            lines.insert(
                0,
                f"{req.activation}({format_number(conv_value)}) = "
                f"{format_number(float(activated))}",
            )
        shown = float(out[channel, row, col])
        lines.append(f"<b>output = {format_number(shown)}</b>")
        self.explanation.show_explanation(
            f"Output {where}: the kernel on the input pixels under it",
            ex,
            text + "<br>" + "<br>".join(lines),
        )
        rows, cols = ex.input_rows, ex.input_cols
        self.in_view.set_highlight(
            QRectF(
                float(cols[0]),
                float(rows[0]),
                float(cols[-1] - cols[0] + 1),
                float(rows[-1] - rows[0] + 1),
            )
        )
        if index is None:
            rect = self.out_view.image_rect()
            cw = rect.width() / out.shape[2]
            ch = rect.height() / out.shape[1]
            self.out_view.set_highlight(
                QRectF(rect.left() + col * cw, rect.top() + row * ch, cw, ch)
            )
        else:
            self.maps_view.set_highlight(index, QRectF(col, row, 1, 1))

    # -- the step-through and the example ------------------------------------------
    @Slot(int)
    def _on_channel(self, _index: int) -> None:
        if self.colours.currentText() == "diverging":
            self.schedule()  # the picture shows that channel
        else:
            self._refresh_hover()

    @Slot(int)
    def _on_view_tab(self, index: int) -> None:
        if index == 1 and self._step_dirty:
            self._update_step()

    def _update_step(self) -> None:
        req = self.request()
        if req is None:
            return
        self._step_dirty = False
        self.step.set_source(req.image, req.kernel, req.settings)

    @Slot()
    def load_six_example(self) -> None:
        """The lecture's 32x32x3 image and six random 5x5x3 filters: 28x28x6."""
        from PIL import Image

        from playground.core.filters.images import load_sample

        photo = load_sample("chelsea", mode="rgb").array
        hwc = (photo.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)
        h, w = hwc.shape[:2]
        side = min(h, w)
        top, left = (h - side) // 2, (w - side) // 2
        small = Image.fromarray(hwc[top : top + side, left : left + side]).resize(
            (32, 32), Image.LANCZOS
        )
        tiny = (np.asarray(small, dtype=np.float32) / 255.0).transpose(2, 0, 1)
        rng = np.random.default_rng(6)
        filters = (rng.standard_normal((6, 3, 5, 5)) / 5).astype(np.float32)
        self.editor.set_stack(filters, [f"random {i + 1}" for i in range(6)])
        self.controls.set_values(stride=1, padding="valid", dilation=1)
        self.controls.pool_kind.setCurrentText("none")
        self.image_requested.emit(tiny, "chelsea 32x32")

    def shutdown(self) -> None:
        self._closed = True  # a submit still posted finds the page closed
        self.step.shutdown()
        self.jobs.shutdown()
