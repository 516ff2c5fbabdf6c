"""Learn a filter: train one kernel by gradient descent to reproduce a target.

The lecture exercise made visible: pick a target (a preset kernel, a hidden
"mystery" kernel, or a target image), press Train, and watch the learned
kernel's cells converge beside the target's, the loss fall and the output
approach the target. The learning itself runs in FilterLearningController's
thread; this panel only presents what it reports.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from playground.core.filters.images import array_to_uint8
from playground.core.filters.kernels import (
    PRESET_DESCRIPTIONS,
    PRESET_NAMES,
    format_number,
    preset_kernel,
)
from playground.core.filters.learn import (
    MAX_KERNEL,
    MIN_KERNEL,
    OPTIMIZERS,
    FilterFinished,
    FilterProgress,
    LearnFilterError,
    LearnFilterSettings,
    kernel_error,
)
from playground.gui.filter_learning import (
    FilterLearningController,
    LearnJob,
    LearnPrepared,
)
from playground.gui.widgets.image_tiles import ImageTileWidget, display_pixels
from playground.gui.widgets.kernel_view import KernelGridWidget

MYSTERY = "mystery kernel"
DEFAULT_STEPS = 3000
# the run ends once the loss is below this fraction of the target's mean
# square: the output matches to float32 precision, the kernel to ~0.001
TOLERANCE = 1e-9
TARGET_IMAGE = "target image file…"
LEARNING_RATES = ("0.001", "0.005", "0.01", "0.05", "0.1", "0.5")
OPTIMIZER_TIPS = {
    "sgd": "Plain gradient descent: kernel -= learning rate x gradient.",
    "momentum": "Gradient descent with momentum 0.9: steps build up speed.",
    "adam": "Adam: a step size per cell from running gradient statistics; "
    "forgiving about the learning rate.",
    "rmsprop": "RMSprop: each cell's step divided by its recent gradient size.",
}


def result_optimizer(panel) -> str:
    return panel.optimizer.currentData() or "this optimizer"


# -- the panel -------------------------------------------------------------------------
class LearnFilterPanel(QWidget):
    """The "Learn a filter" page of the filter lab."""

    message_changed = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.image: np.ndarray | None = None
        self.image_name = ""
        self.target_path: str | None = None
        self.mystery: np.ndarray | None = None
        self.revealed = False
        self.run_target_kernel: np.ndarray | None = None  # of the current run
        self.prepared: LearnPrepared | None = None
        self.last_result: FilterFinished | None = None
        self.error_grid_kernel: np.ndarray | None = None
        self._steps = np.zeros(0, np.int64)
        self._losses = np.zeros(0, np.float64)
        self._output: np.ndarray | None = None

        self.controller = FilterLearningController(self)
        c = self.controller
        c.state_changed.connect(self._on_state)
        c.prepared_ready.connect(self._on_prepared)
        c.losses_ready.connect(self._on_losses)
        c.progress_ready.connect(self._on_progress)
        c.output_ready.connect(self._on_output)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)

        self._build()
        self._on_target_changed()
        self._on_state("idle")

    # -- layout --------------------------------------------------------------------
    def _build(self) -> None:
        root = QHBoxLayout(self)
        side = QVBoxLayout()
        root.addLayout(side, 0)

        target_box = QGroupBox("Target")
        tf = QFormLayout(target_box)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip(
            "What the learned kernel should reproduce: a preset kernel applied "
            "to the image, a hidden random kernel, or an image file you made "
            "from this image (the same size)"
        )
        for name in PRESET_NAMES:
            self.target_combo.addItem(name, name)
            self.target_combo.setItemData(
                self.target_combo.count() - 1, PRESET_DESCRIPTIONS[name], Qt.ToolTipRole
            )
        self.target_combo.insertSeparator(self.target_combo.count())
        self.target_combo.addItem(MYSTERY, MYSTERY)
        self.target_combo.setItemData(
            self.target_combo.count() - 1,
            "A random 3x3 kernel whose values stay hidden until the run ends "
            "or you press Reveal",
            Qt.ToolTipRole,
        )
        self.target_combo.addItem(TARGET_IMAGE, TARGET_IMAGE)
        self.target_combo.setCurrentIndex(PRESET_NAMES.index("sobel x"))
        self.target_combo.currentIndexChanged.connect(self._on_target_changed)
        tf.addRow("Make it with", self.target_combo)
        buttons = QHBoxLayout()
        self.new_mystery_button = QPushButton("New mystery")
        self.new_mystery_button.setToolTip("Draw another hidden random kernel")
        self.new_mystery_button.clicked.connect(self._new_mystery)
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.setToolTip("Show the mystery kernel's values")
        self.reveal_button.clicked.connect(self.reveal)
        self.choose_button = QPushButton("Choose image…")
        self.choose_button.setToolTip(
            "A target image made from this image (e.g. filtered in another "
            "program), with the same width and height"
        )
        self.choose_button.clicked.connect(self._choose_target_image)
        for b in (self.new_mystery_button, self.reveal_button, self.choose_button):
            buttons.addWidget(b)
        tf.addRow(buttons)
        self.target_path_label = QLabel("")
        self.target_path_label.setWordWrap(True)
        tf.addRow(self.target_path_label)
        side.addWidget(target_box)

        settings_box = QGroupBox("Learning")
        form = QFormLayout(settings_box)
        self.kernel_size = QSpinBox()
        self.kernel_size.setRange(MIN_KERNEL, MAX_KERNEL)
        self.kernel_size.setValue(3)
        self.kernel_size.setToolTip(
            "Side of the learned kernel. Larger than the target works too (the "
            "extra cells should go to 0); smaller cannot reproduce it exactly."
        )
        form.addRow("Kernel size", self.kernel_size)
        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem(name, name)
            self.optimizer.setItemData(
                self.optimizer.count() - 1, OPTIMIZER_TIPS[name], Qt.ToolTipRole
            )
        self.optimizer.setCurrentText("adam")
        self.optimizer.setToolTip("How each step changes the kernel from its gradient")
        form.addRow("Optimizer", self.optimizer)
        self.learning_rate = QComboBox()
        self.learning_rate.setEditable(True)
        self.learning_rate.addItems(LEARNING_RATES)
        # Adam at 0.1 for up to 3000 steps, stopping early once the output
        # matches the target (TOLERANCE): on the default image every preset
        # is recovered to ~0.001 per cell in 1300-2100 steps (1-2 s). The
        # old 0.05 and 300 steps left errors of 0.2-0.4: the fine differences
        # between cells barely change the loss of a smooth photo, so they are
        # learned last. A decaying rate (cosine) was tried and was worse: the
        # slow part needs the full step size to the end.
        self.learning_rate.setCurrentText("0.1")
        self.learning_rate.setToolTip(
            "Step size. Too large and the loss jumps or becomes NaN (plain sgd "
            "needs a small one); too small and the kernel barely moves."
        )
        form.addRow("Learning rate", self.learning_rate)
        self.steps = QSpinBox()
        self.steps.setRange(1, 100_000)
        self.steps.setSingleStep(100)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setToolTip(
            "Optimizer steps at most: one step looks at the whole image. The "
            "run stops earlier once the output matches the target."
        )
        form.addRow("Steps", self.steps)
        self.use_tanh = QCheckBox("tanh after the convolution")
        self.use_tanh.setToolTip(
            "As the lecture's Filter module: the target and the output both go "
            "through tanh, which squashes large values (harder to learn)"
        )
        form.addRow(self.use_tanh)
        self.seed = QSpinBox()
        self.seed.setRange(0, 1_000_000)
        self.seed.setToolTip("Seed of the learned kernel's random start")
        form.addRow("Seed", self.seed)
        self.colour = QComboBox()
        self.colour.addItem("gray", True)
        self.colour.addItem("as loaded (RGB)", False)
        self.colour.setToolTip(
            "Learn on the gray image, or on every colour channel (one kernel "
            "shared by the channels)"
        )
        form.addRow("Colour", self.colour)
        self.max_side = QSpinBox()
        self.max_side.setRange(16, 256)
        self.max_side.setValue(128)
        self.max_side.setSuffix(" px")
        self.max_side.setToolTip(
            "The image is scaled down so its longer side is at most this: "
            "learning then runs live"
        )
        form.addRow("Longest side", self.max_side)
        self.show_difference = QCheckBox("show |output − target|")
        self.show_difference.setToolTip(
            "Where the output still differs from the target"
        )
        self.show_difference.toggled.connect(self._on_show_difference)
        form.addRow(self.show_difference)
        side.addWidget(settings_box)

        row = QHBoxLayout()
        self.train_button = QPushButton("Train")
        self.train_button.setToolTip(
            "Learn the kernel from a random start (restarts a run under way)"
        )
        self.train_button.clicked.connect(self.train)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause or resume the run")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("One optimizer step, then wait")
        self.step_button.clicked.connect(self.step)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop now and keep the kernel learned so far")
        self.stop_button.clicked.connect(self.controller.stop)
        for b in (
            self.train_button,
            self.pause_button,
            self.step_button,
            self.stop_button,
        ):
            row.addWidget(b)
        side.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setToolTip("The run's step and loss (mean squared error)")
        side.addWidget(self.status)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b3261e;")
        side.addWidget(self.message)
        self.image_label = QLabel("")
        self.image_label.setWordWrap(True)
        side.addWidget(self.image_label)
        side.addStretch(1)
        for box in (target_box, settings_box):
            box.setMaximumWidth(330)

        main = QVBoxLayout()
        root.addLayout(main, 1)
        kernels = QHBoxLayout()
        self.learned_grid = KernelGridWidget("Learned kernel")
        self.target_grid = KernelGridWidget("Target kernel")
        self.error_grid = KernelGridWidget("Error per cell")
        self.error_grid.sequential = True
        self.error_grid.set_note("after the run")
        self.learned_grid.set_note("press Train")
        for g in (self.learned_grid, self.target_grid, self.error_grid):
            kernels.addWidget(g)
        # a short title: the long one was clipped at 1024 pixels wide (the
        # tooltip says what the loss is)
        self.loss_plot = pg.PlotWidget(title="Loss (MSE)")
        self.loss_plot.setBackground("w")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.getAxis("left").enableAutoSIPrefix(False)
        self.loss_plot.setMinimumWidth(220)
        self.loss_plot.setToolTip(
            "The loss after each step, on a log scale: the mean squared error "
            "between the output and the target"
        )
        self.loss_curve = self.loss_plot.plot(
            [], [], pen=pg.mkPen((8, 119, 189), width=2)
        )
        kernels.addWidget(self.loss_plot, 2)
        main.addLayout(kernels, 1)
        self.error_label = QLabel("")
        self.error_label.setToolTip(
            "The cell whose learned value is furthest from the target"
        )
        main.addWidget(self.error_label)

        images = QGridLayout()
        self.input_tile = ImageTileWidget(
            "Input", "The image the kernel is applied to (scaled down to learn live)"
        )
        self.output_tile = ImageTileWidget(
            "Output now", "The learned kernel applied to the input, as it is now"
        )
        self.target_tile = ImageTileWidget(
            "Target", "What the output should become: the target kernel's output"
        )
        self.difference_tile = ImageTileWidget(
            "|output − target|", "Black where the output matches the target"
        )
        self.difference_tile.setVisible(False)
        for i, tile in enumerate(
            (self.input_tile, self.output_tile, self.target_tile, self.difference_tile)
        ):
            images.addWidget(tile, 0, i)
        main.addLayout(images, 1)

    # -- the image -------------------------------------------------------------------
    def set_image(
        self, array: np.ndarray, name: str, preview: np.ndarray | None = None
    ) -> None:
        """The lab's current image (C, H, W) float32 0..1; `preview`, uint8
        pixels of it at most ~1024 a side, when the loading job made them."""
        self.image = array
        self.image_name = name
        c, h, w = np.shape(array)
        self.image_label.setText(
            f"Image: {name} ({w}x{h}, {'gray' if c == 1 else 'RGB'})"
        )
        self.colour.model().item(1).setEnabled(c == 3)
        if c == 1:
            self.colour.setCurrentIndex(0)
        if not self.controller.busy:
            if preview is None:
                preview = display_pixels(array, False, 1.0)
            self.input_tile.set_pixels(preview)

    def _ensure_image(self) -> None:
        if self.image is None:
            from playground.core.filters.images import load_sample

            loaded = load_sample("camera")
            self.set_image(loaded.array, loaded.name)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._ensure_image()

    # -- the target --------------------------------------------------------------------
    def _target_choice(self) -> str:
        return self.target_combo.currentData()

    def _target_kernel(self) -> np.ndarray | None:
        choice = self._target_choice()
        if choice == MYSTERY:
            if self.mystery is None:
                self._new_mystery()
            return self.mystery
        if choice == TARGET_IMAGE:
            return None
        return preset_kernel(choice, seed=self.seed.value())

    @Slot()
    def _on_target_changed(self) -> None:
        choice = self._target_choice()
        self.new_mystery_button.setVisible(choice == MYSTERY)
        self.reveal_button.setVisible(choice == MYSTERY)
        self.choose_button.setVisible(choice == TARGET_IMAGE)
        self.target_path_label.setVisible(choice == TARGET_IMAGE)
        if choice == MYSTERY and self.mystery is None:
            self._new_mystery()
            return
        self._show_target_kernel(self._target_kernel())

    def _show_target_kernel(self, kernel) -> None:
        if kernel is None:
            self.target_grid.set_kernel(None)
            self.target_grid.set_note("the target is an image:\nno kernel to compare")
            return
        hidden = self._target_choice() == MYSTERY and not self.revealed
        self.target_grid.set_note("hidden: press Reveal" if hidden else "")
        self.target_grid.set_kernel(kernel, self._kernel_limit(kernel), hidden=hidden)

    def _kernel_limit(self, target) -> float:
        values = [np.abs(target).max()] if target is not None else []
        if self.learned_grid.kernel is not None:
            values.append(np.abs(self.learned_grid.kernel).max())
        return float(max(values)) if values else 1.0

    @Slot()
    def _new_mystery(self) -> None:
        # Drawn from fresh entropy: a class cannot look the seed up.
        seed = int(np.random.default_rng().integers(0, 2**31))
        self.mystery = preset_kernel("random", seed=seed)
        self.revealed = False
        self.reveal_button.setEnabled(True)
        if self._target_choice() == MYSTERY:
            self._show_target_kernel(self.mystery)

    @Slot()
    def reveal(self) -> None:
        self.revealed = True
        self.reveal_button.setEnabled(False)
        if self._target_choice() == MYSTERY:
            self._show_target_kernel(self.mystery)
            self._show_errors()

    @Slot()
    def _choose_target_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Target image",
            "",
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif "
            "*.tiff *.webp);;All files (*)",
        )
        if path:
            self.set_target_image_path(path)

    def set_target_image_path(self, path: str) -> None:
        """Use an image file as the target (read when Train is pressed)."""
        self.target_path = str(path)
        from pathlib import Path

        self.target_path_label.setText(f"Target image: {Path(path).name}")
        index = self.target_combo.findData(TARGET_IMAGE)
        self.target_combo.setCurrentIndex(index)

    # -- commands ------------------------------------------------------------------------
    def _settings(self) -> LearnFilterSettings:
        text = self.learning_rate.currentText().strip().replace(",", ".")
        try:
            lr = float(text)
        except ValueError:
            raise LearnFilterError(
                f"learning rate must be a number above 0 (e.g. 0.01), got {text!r}"
            ) from None
        steps = self.steps.value()
        s = LearnFilterSettings(
            kernel_size=self.kernel_size.value(),
            optimizer=self.optimizer.currentData(),
            learning_rate=lr,
            steps=steps,
            use_tanh=self.use_tanh.isChecked(),
            seed=self.seed.value(),
            # an output picture every few steps: enough for ~30 redraws a second
            report_every=max(1, min(5, steps // 20)),
            tolerance=TOLERANCE,
        )
        s.check()
        return s

    def _job(self) -> LearnJob:
        self._ensure_image()
        settings = self._settings()
        kernel = self._target_kernel()
        if kernel is None and not self.target_path:
            raise LearnFilterError("choose a target image file first (Choose image…)")
        return LearnJob(
            image=self.image,
            settings=settings,
            max_side=self.max_side.value(),
            gray=bool(self.colour.currentData()),
            target_kernel=kernel,
            target_path=None if kernel is not None else self.target_path,
        )

    @Slot()
    def train(self, single_step: bool = False) -> None:
        try:
            job = self._job()
        except LearnFilterError as exc:
            self._show_message(str(exc))
            return
        self._reset_run(job)
        self.controller.start(job, single_step=single_step)

    @Slot()
    def step(self) -> None:
        if self.controller.state == "paused":
            self.controller.step_once()
        elif not self.controller.busy:
            self.train(single_step=True)

    @Slot()
    def _toggle_pause(self) -> None:
        if self.controller.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def shutdown(self) -> None:
        self.controller.shutdown()

    def _reset_run(self, job: LearnJob) -> None:
        self._show_message("")
        self.run_target_kernel = job.target_kernel
        self.prepared = None
        self.last_result = None
        self.error_grid_kernel = None
        self._steps = np.zeros(0, np.int64)
        self._losses = np.zeros(0, np.float64)
        self._output = None
        self.loss_curve.setData([], [])
        self.learned_grid.set_kernel(None)
        self.learned_grid.set_note("starting…")
        self.error_grid.set_kernel(None)
        self.error_grid.set_note("after the run")
        self.error_label.setText("")
        self.output_tile.set_pixels(None)
        self.difference_tile.set_pixels(None)
        self._show_target_kernel(job.target_kernel)
        self.status.setText("Preparing the image and the target…")

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message_changed.emit(text)

    # -- what the controller reports ---------------------------------------------------
    @Slot(str)
    def _on_state(self, state: str) -> None:
        busy = state != "idle"
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_button.setEnabled(state in ("idle", "paused"))
        self.stop_button.setEnabled(state in ("running", "paused"))
        self.train_button.setText("Restart" if busy else "Train")

    @Slot(object)
    def _on_prepared(self, prepared: LearnPrepared) -> None:
        self.prepared = prepared
        _c, h, w = prepared.image.shape
        self.input_tile.set_pixels(
            display_pixels(prepared.image, False, 1.0), f"{w}x{h}"
        )
        symmetric, limit = self._output_mapping()
        self.target_tile.set_pixels(display_pixels(prepared.target, symmetric, limit))

    def _output_mapping(self) -> tuple[bool, float]:
        """Outputs that go negative (edges) use diverging colours around 0 with
        the target's largest value as the limit, so output and target compare."""
        if self.prepared is None:
            return False, 1.0
        t = self.prepared.target
        top = float(np.abs(t).max()) if t.size else 1.0
        return bool(t.min() < -1e-6), top if top > 0 else 1.0

    @Slot(object, object)
    def _on_losses(self, steps, losses) -> None:
        self._steps = np.concatenate([self._steps, steps])
        self._losses = np.concatenate([self._losses, losses])
        ok = self._losses > 0
        self.loss_curve.setData(self._steps[ok], self._losses[ok])

    @Slot(object)
    def _on_progress(self, progress: FilterProgress) -> None:
        target = self.run_target_kernel
        self.learned_grid.set_note("")
        limit = self._kernel_limit(target)
        self.learned_grid.set_kernel(
            progress.kernel, max(limit, float(np.abs(progress.kernel).max()))
        )
        if target is not None:
            self._show_target_kernel(target)
        total = self.steps.value()
        self.status.setText(
            f"Step {progress.step} of {total}: loss {progress.loss:.4g}"
        )

    @Slot(object)
    def _on_output(self, output) -> None:
        self._output = output
        symmetric, limit = self._output_mapping()
        self.output_tile.set_pixels(display_pixels(output, symmetric, limit))
        self._show_difference()

    @Slot(bool)
    def _on_show_difference(self, on: bool) -> None:
        self.difference_tile.setVisible(on)
        self._show_difference()

    def _show_difference(self) -> None:
        out, prepared = self._output, self.prepared
        if (
            not self.show_difference.isChecked()
            or out is None
            or prepared is None
            or out.shape != prepared.target.shape
        ):
            return
        _, limit = self._output_mapping()
        diff = np.abs(out - prepared.target).mean(axis=0)
        # Scaled to its own largest value, so what is left stays visible; at
        # least 1% of the target's range, so noise near 0 does not glare.
        top = max(float(diff.max()), 0.01 * limit)
        self.difference_tile.set_pixels(
            array_to_uint8(diff, 0.0, top), f"white = {float(diff.max()):.3g}"
        )

    @Slot(object)
    def _on_finished(self, result: FilterFinished) -> None:
        self.last_result = result
        self._on_output(result.output)
        target = self.run_target_kernel
        self.learned_grid.set_note("")
        self.learned_grid.set_kernel(
            result.kernel,
            max(self._kernel_limit(target), float(np.abs(result.kernel).max())),
        )
        how = "Stopped" if result.stopped else "Finished"
        text = f"{how} after {result.steps} steps: loss {result.loss:.4g}"
        if result.converged:
            text += " (the output matches the target: no need for more steps)"
        self.status.setText(text)
        first = float(self._losses[0]) if self._losses.size else None
        if first is not None and result.loss > first:
            lr = self.learning_rate.currentText().strip()
            self._show_message(
                f"The loss grew from {first:.3g} to {result.loss:.3g}: the "
                f"learning rate {lr} is too large for {result_optimizer(self)}. "
                "Try a lower one (10 times smaller), or adam."
            )
        if target is not None and self._target_choice() == MYSTERY:
            self.reveal()  # the end of a run gives the answer away
        if target is not None:
            self._show_target_kernel(target)
        self._show_errors()

    def _show_errors(self) -> None:
        result, target = self.last_result, self.run_target_kernel
        if result is None or target is None:
            if result is not None:
                self.error_grid.set_kernel(None)
                self.error_grid.set_note(
                    "the target is an image:\nno kernel to compare"
                )
            return
        hidden = self._target_choice() == MYSTERY and not self.revealed
        errors = kernel_error(result.kernel, target)
        self.error_grid_kernel = errors
        top = float(errors.max())
        self.error_grid.set_note("")
        self.error_grid.set_kernel(errors, max(top, 1e-6), hidden=hidden)
        r, c = np.unravel_index(int(np.argmax(errors)), errors.shape)
        self.error_label.setText(
            f"Largest error {format_number(top)} at row {r + 1}, column {c + 1}"
            + ("" if top >= 0.05 else ": the kernel was recovered")
        )

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_message(message)
        self.status.setText("The run failed.")
        self.learned_grid.set_note("no result")
