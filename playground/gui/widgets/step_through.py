"""Step-through: the kernel slides across a small crop, one output pixel at a
time, with the window highlighted and the multiply-and-add written out large
enough for a class to read.

Everything here comes from `explain_pixel` (numpy, microseconds per pixel), so
the step-through needs no torch and no background job.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from playground.core.filters.convolution import (
    ConvSettings,
    ConvSettingsError,
    resolve_padding,
    validate,
)
from playground.core.filters.explain import (
    explain_pixel,
    explain_stack_pixel,
    sliding_positions,
    source_index,
)
from playground.core.filters.images import crop_center
from playground.gui.widgets.filter_image_view import HIGHLIGHT
from playground.gui.widgets.kernel_grid import cell_color, fit_number

CROP_SIZES = (6, 8, 10, 12, 16)
DEFAULT_CROP = 8
MAX_TERMS = 25  # a 5x5 kernel written out in full; 7x7 is shortened
PLAY_TIP = "Slide the kernel across the crop, one output pixel at a time"
STEP_TIP = "Compute the next output pixel"
RESET_TIP = "Start again from the top-left output pixel"


class _StepCanvas(QWidget):
    """The padded crop with the kernel's window, and the output filling in."""

    def __init__(self, owner: StepThroughWidget):
        super().__init__(owner)
        self._o = owner
        self.setMinimumSize(420, 230)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def paintEvent(self, event):
        o = self._o
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(250, 250, 250))
        if o.crop is None or o.out_shape is None:
            p.end()
            return
        channel = o.shown_channel()
        crop = o.crop[channel]
        left, right, top, bottom = o.pads
        h, w = crop.shape
        ph, pw = h + top + bottom, w + left + right
        oh, ow = o.out_shape
        gap = 40
        cell = min(
            (self.width() - gap - 20) / (pw + ow),
            (self.height() - 30) / max(ph, oh),
        )
        cell = max(6.0, cell)
        x0 = 10.0
        y0 = 22.0
        font = QFont(self.font())
        font.setPixelSize(max(9, int(cell * 0.28)))
        p.setFont(font)
        # the numbers' text is chosen for the room there is: fewer decimals
        # when short of it, the sign always, none when nothing fits
        measure = QFontMetricsF(font).horizontalAdvance
        room = cell - 3
        p.setPen(self.palette().windowText().color())
        p.drawText(
            QRectF(x0, 2, pw * cell, 18),
            Qt.AlignLeft,
            "input crop" + (" with padding" if any(o.pads) else ""),
        )
        mode = o.settings.padding_mode
        rows = source_index(np.arange(-top, h + bottom), h, mode)
        cols = source_index(np.arange(-left, w + right), w, mode)
        show_numbers = cell >= 16
        for i in range(ph):
            for j in range(pw):
                r, c = rows[i], cols[j]
                value = float(crop[r, c]) if r >= 0 and c >= 0 else 0.0
                inside = top <= i < top + h and left <= j < left + w
                g = round(min(1.0, max(0.0, value)) * 255)
                rect = QRectF(x0 + j * cell, y0 + i * cell, cell, cell)
                color = QColor(g, g, g)
                if not inside:  # padding: paler, so it reads as made up
                    color = QColor(
                        (g + 2 * 225) // 3, (g + 2 * 215) // 3, (g + 2 * 235) // 3
                    )
                p.fillRect(rect, color)
                p.setPen(QColor(170, 170, 170))
                p.drawRect(rect)
                if show_numbers:
                    p.setPen(QColor(255, 255, 255) if g < 128 else QColor(0, 0, 0))
                    p.drawText(rect, Qt.AlignCenter, fit_number(value, room, measure))
        ex = o.current
        if ex is not None:
            part = ex.parts[0] if hasattr(ex, "parts") else ex
            pen = QPen(HIGHLIGHT)
            pen.setWidthF(3)
            p.setPen(pen)
            small = QFont(font)
            small.setPixelSize(max(8, int(cell * 0.22)))
            small_measure = QFontMetricsF(small).horizontalAdvance
            for i, r in enumerate(part.input_rows):
                for j, c in enumerate(part.input_cols):
                    rect = QRectF(
                        x0 + (c + left) * cell, y0 + (r + top) * cell, cell, cell
                    )
                    p.setPen(pen)
                    p.drawRect(rect.adjusted(2, 2, -2, -2))
                    if show_numbers:  # the weight that multiplies this pixel
                        p.setFont(small)
                        p.setPen(HIGHLIGHT)
                        weight = fit_number(
                            part.kernel[i, j],
                            room - 4 - small_measure("\u00d7"),
                            small_measure,
                        )
                        if weight:
                            p.drawText(
                                rect.adjusted(3, 2, -4, -2),
                                Qt.AlignRight | Qt.AlignBottom,
                                "\u00d7" + weight,
                            )
                        p.setFont(font)
        # the output, filled so far
        ox = x0 + pw * cell + gap
        p.setPen(self.palette().windowText().color())
        p.drawText(
            QRectF(ox, 2, max(ow * cell, 120), 18), Qt.AlignLeft, f"output {ow}x{oh}"
        )
        p.drawText(QRectF(ox - gap, y0, gap, ph * cell), Qt.AlignCenter, "\u2192")
        filled = o.filled
        limit = float(np.nanmax(np.abs(filled))) if np.isfinite(filled).any() else 1.0
        for i in range(oh):
            for j in range(ow):
                rect = QRectF(ox + j * cell, y0 + i * cell, cell, cell)
                value = filled[i, j]
                if np.isfinite(value):
                    fill = cell_color(value, limit or 1.0)
                    p.fillRect(rect, fill)
                    if show_numbers:
                        p.setPen(QColor(20, 20, 20))
                        p.drawText(
                            rect, Qt.AlignCenter, fit_number(value, room, measure)
                        )
                p.setPen(QColor(170, 170, 170))
                p.drawRect(rect)
        if ex is not None:
            pen = QPen(HIGHLIGHT)
            pen.setWidthF(3)
            p.setPen(pen)
            p.drawRect(QRectF(ox + ex_x(ex) * cell, y0 + ex_y(ex) * cell, cell, cell))
        p.end()


def ex_y(ex) -> int:
    return (ex.parts[0] if hasattr(ex, "parts") else ex).out_y


def ex_x(ex) -> int:
    return (ex.parts[0] if hasattr(ex, "parts") else ex).out_x


class StepThroughWidget(QWidget):
    """Play / Pause / Step / Reset over a centred crop of the lab's image."""

    position_changed = Signal(int)  # how many output pixels are done

    def __init__(self, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.kernel: np.ndarray | None = None
        self.settings = ConvSettings()
        self.crop: np.ndarray | None = None
        self.out_shape: tuple[int, int] | None = None
        self.pads = (0, 0, 0, 0)
        self.positions: list[tuple[int, int]] = []
        self.index = 0  # output pixels done
        self.filled = np.full((1, 1), np.nan)
        self.current = None

        self.crop_size = QComboBox()
        for size in CROP_SIZES:
            self.crop_size.addItem(f"{size}x{size}", size)
        self.crop_size.setCurrentIndex(CROP_SIZES.index(DEFAULT_CROP))
        self.crop_size.setToolTip(
            "How large a piece of the image's centre to step through"
        )
        self.channel = QComboBox()
        self.channel.setToolTip("Which channel (or feature map) to follow")
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.setToolTip(PLAY_TIP)
        self.step = QPushButton("Step")
        self.step.setToolTip(STEP_TIP)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip(RESET_TIP)
        self.speed = QSlider(Qt.Horizontal)
        self.speed.setRange(1, 20)
        self.speed.setValue(3)
        self.speed.setToolTip("Output pixels per second while playing")
        self.speed_label = QLabel()
        self.progress = QLabel()
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Crop"))
        controls.addWidget(self.crop_size)
        controls.addWidget(self.channel)
        controls.addWidget(self.play)
        controls.addWidget(self.step)
        controls.addWidget(self.reset)
        controls.addWidget(QLabel("Speed"))
        controls.addWidget(self.speed, 1)
        controls.addWidget(self.speed_label)
        controls.addWidget(self.progress)
        self.canvas = _StepCanvas(self)
        self.sum_text = QLabel()
        self.sum_text.setObjectName("stepSumText")
        self.sum_text.setWordWrap(True)
        self.sum_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.35)
        self.sum_text.setFont(big)
        self.sum_text.setMinimumHeight(60)
        self.sum_text.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.message = QLabel()
        self.message.setStyleSheet("color: #b3261e;")
        self.message.setWordWrap(True)
        self.message.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.message)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.sum_text)

        self.timer = QTimer(self)
        self.timer.timeout.connect(self.step_once)
        self.play.toggled.connect(self._on_play)
        self.step.clicked.connect(self.step_once)
        self.reset.clicked.connect(self.restart)
        self.speed.valueChanged.connect(self._on_speed)
        self.crop_size.currentIndexChanged.connect(self._rebuild)
        self.channel.currentIndexChanged.connect(self.restart)
        self._on_speed(self.speed.value())

    # -- inputs --------------------------------------------------------------
    def set_source(self, image, kernel, settings: ConvSettings) -> None:
        """The lab's image and kernel: (K, K), (C, K, K) or a stack (N, C, K, K)."""
        self.image = image
        self.kernel = np.asarray(kernel, dtype=np.float32)
        self.settings = settings
        self._fill_channels()
        self._rebuild()

    def _fill_channels(self) -> None:
        if self.image is None:
            return
        if self.kernel.ndim == 4:
            names = [f"map {i + 1}" for i in range(self.kernel.shape[0])]
        elif self.image.shape[0] == 3:
            names = ["red", "green", "blue"]
        else:
            names = ["gray"]
        current = [self.channel.itemText(i) for i in range(self.channel.count())]
        if current != names:
            self.channel.blockSignals(True)
            self.channel.clear()
            self.channel.addItems(names)
            self.channel.blockSignals(False)
        self.channel.setVisible(len(names) > 1)

    def shown_channel(self) -> int:
        """The crop channel drawn: a stack's map sums all, so its first is shown."""
        if self.kernel is not None and self.kernel.ndim == 4:
            return 0
        return max(0, self.channel.currentIndex())

    @Slot()
    def _rebuild(self) -> None:
        if self.image is None:
            return
        self.crop = np.asarray(crop_center(self.image, self.crop_size.currentData()))
        try:
            size = self.kernel.shape[-1]
            self.out_shape = validate(self.crop.shape, self.kernel.shape, self.settings)
            self.pads = resolve_padding(self.settings, size)
        except ConvSettingsError as exc:
            self.out_shape = None
            self._stop()
            reason = f"Cannot step through this crop: {exc}"
            self.message.setText(reason)
            self.message.show()
            self._enable_stepping(reason)
            self.current = None
            self.sum_text.clear()
            self.canvas.update()
            return
        self.message.hide()
        self._enable_stepping(None)
        self.restart()

    def _enable_stepping(self, reason: str | None) -> None:
        """Play and Step need an output; without one they say why."""
        for button, tip in (
            (self.play, PLAY_TIP),
            (self.step, STEP_TIP),
            (self.reset, RESET_TIP),
        ):
            button.setEnabled(reason is None)
            button.setToolTip(tip if reason is None else reason)

    def hideEvent(self, event) -> None:
        # leaving the sub-tab or the lab: nobody watches, so stop playing
        self._stop()
        super().hideEvent(event)

    # -- stepping ------------------------------------------------------------
    @Slot()
    def restart(self) -> None:
        if self.out_shape is None:
            return
        self.positions = list(sliding_positions(*self.out_shape))
        self.index = 0
        self.filled = np.full(self.out_shape, np.nan)
        self.current = None
        self.sum_text.setText(
            "Press Step or Play: the kernel is laid on the top-left window, its "
            "weights multiply the pixels under them and the products add up to "
            "one output pixel."
        )
        self._show_progress()
        self.canvas.update()

    def explain(self, y: int, x: int):
        channel = max(0, self.channel.currentIndex())
        if self.kernel.ndim == 4:
            return explain_stack_pixel(
                self.crop, self.kernel, self.settings, y, x, channel
            )
        return explain_pixel(self.crop, self.kernel, self.settings, y, x, channel)

    @Slot()
    def step_once(self) -> None:
        if self.out_shape is None or not self.positions:
            return
        if self.index >= len(self.positions):
            self._stop()
            return
        y, x = self.positions[self.index]
        ex = self.explain(y, x)
        self.current = ex
        self.filled[y, x] = ex.value
        self.index += 1
        where = f"output row {y}, column {x}"
        self.sum_text.setText(f"<b>{where}</b>: {ex.text(max_terms=MAX_TERMS)}")
        self._show_progress()
        self.canvas.update()
        self.position_changed.emit(self.index)
        if self.index >= len(self.positions):
            self._stop()

    def _show_progress(self) -> None:
        self.progress.setText(f"{self.index}/{len(self.positions)}")

    @Slot(bool)
    def _on_play(self, on: bool) -> None:
        if on and (self.out_shape is None or not self.positions):
            self.play.setChecked(False)  # nothing to play: never "Pause"
            return
        if on:
            if self.index >= len(self.positions):
                self.restart()
            self.timer.start()
            self.play.setText("Pause")
        else:
            self.timer.stop()
            self.play.setText("Play")

    def _stop(self) -> None:
        self.play.setChecked(False)

    @Slot(int)
    def _on_speed(self, value: int) -> None:
        self.timer.setInterval(int(1000 / value))
        self.speed_label.setText(f"{value}/s")

    def shutdown(self) -> None:
        self.timer.stop()
