"""Training curves: live loss and accuracy of the running job, and past runs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.gui.widgets.gradient_plots import GradientPlotsWidget
from playground.gui.widgets.live_curves import LiveCurvesWidget
from playground.gui.widgets.throttle import LatestOnly

HEADING_MS = 250

LIVE = "Current run"


class TrainingCurvesTab(QWidget):
    def __init__(self, session, engine, parent=None):
        super().__init__(parent)
        self.session = session
        self.engine = engine
        self.curves = LiveCurvesWidget(self)
        self.heading = QLabel("No run yet: press Train to start one.")
        self.heading.setObjectName("curvesHeading")
        # New text must not re-lay out the tab (and resize the plots) each time.
        self.heading.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._set_heading = LatestOnly(self.heading.setText, HEADING_MS, self)
        self.run_choice = QComboBox()
        self.run_choice.setToolTip("Show the curves of a finished run of this project")
        self.run_choice.addItem(LIVE)
        self.run_choice.currentIndexChanged.connect(self._on_run_chosen)

        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setFixedWidth(120)
        self.smoothing.setToolTip(
            "Smoothing, as in TensorBoard: an exponential moving average of each "
            "curve (0 = the raw values). The exported data stays unsmoothed."
        )
        self.smoothing_value = QLabel("0.00")
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip("Show the loss on a log10 axis: small losses stay visible")
        self.log_scale.toggled.connect(self.curves.set_log_scale)
        self.gradients = GradientPlotsWidget(self)
        self.gradients.hide()
        self.gradients_button = QToolButton()
        self.gradients_button.setText("Learning rate and gradients")
        self.gradients_button.setCheckable(True)
        self.gradients_button.setToolTip(
            "The learning rate and each layer's gradient norm over the current run, on a "
            "log scale: vanishing gradients sit decades below the rest, exploding ones climb"
        )
        self.gradients_button.toggled.connect(self.gradients.setVisible)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        for text, plot, suffix in (
            ("Loss plot as PNG\u2026", "loss", "png"),
            ("Loss plot as SVG\u2026", "loss", "svg"),
            ("Accuracy plot as PNG\u2026", "accuracy", "png"),
            ("Accuracy plot as SVG\u2026", "accuracy", "svg"),
        ):
            menu.addAction(text, lambda p=plot, s=suffix: self.export_plot_dialog(p, s))
        menu.addAction("Data as CSV\u2026", self.export_csv_dialog)
        self.export_button.setMenu(menu)

        top = QHBoxLayout()
        top.addWidget(QLabel("Smoothing"))
        top.addWidget(self.smoothing)
        top.addWidget(self.smoothing_value)
        top.addWidget(self.log_scale)
        top.addWidget(self.gradients_button)
        top.addWidget(self.export_button)
        top.addStretch(1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.run_choice)
        self.export_message = QLabel()
        self.export_message.setObjectName("exportMessage")
        self.export_message.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addWidget(self.export_message)
        layout.addWidget(self.curves, 3)
        layout.addWidget(self.gradients, 2)

        self._live_epochs = []
        self._live_steps = []
        self._live_end = None  # how the live run ended, once it has
        engine.started.connect(self._on_started)
        engine.step_metrics_ready.connect(self._on_steps)
        engine.epoch_metrics_ready.connect(self._on_epochs)
        engine.gradient_norms_ready.connect(self.gradients.add_norms)
        engine.run_ended.connect(self._on_ended)
        session.runs_changed.connect(self._refresh_runs)
        session.project_loaded.connect(self._on_project_loaded)

    # -- view options and export ----------------------------------------------------
    @Slot(int)
    def _on_smoothing(self, value: int) -> None:
        self.smoothing_value.setText(f"{value / 100:.2f}")
        self.curves.set_smoothing(value / 100)

    def export_plot_dialog(self, which: str, suffix: str) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export the {which} plot", f"{which}.{suffix}",
            f"{suffix.upper()} files (*.{suffix})",
        )
        if path:
            self.export_plot(which, path)

    def export_plot(self, which: str, path) -> bool:
        """Write the plot as PNG or SVG (by the file's suffix)."""
        from playground.core.atomic import atomic_path

        path = Path(path)
        kind = path.suffix.lower()
        if kind not in (".png", ".svg"):
            return self._export_failed(path, "the name must end in .png or .svg")
        plot = self.curves.loss_plot if which == "loss" else self.curves.acc_plot
        self.curves.flush()
        try:
            with atomic_path(path) as tmp:
                if not _render(plot, tmp, kind):
                    raise OSError("the image could not be written")
        except OSError as exc:
            return self._export_failed(path, exc.strerror or str(exc))
        return self._exported(path)

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the curves' data", "curves.csv", "CSV files (*.csv)"
        )
        if path:
            self.export_csv(path)

    def export_csv(self, path) -> bool:
        from playground.core.atomic import write_text

        path = Path(path)
        try:
            write_text(path, self.curves.to_csv())
        except OSError as exc:
            return self._export_failed(path, exc.strerror or str(exc))
        return self._exported(path)

    def _exported(self, path: Path) -> bool:
        self.export_message.setStyleSheet("color: #1b5e20;")
        self.export_message.setText(f"Saved {path}")
        self.export_message.show()
        return True

    def _export_failed(self, path: Path, reason: str) -> bool:
        self.export_message.setStyleSheet("color: #b00020;")
        self.export_message.setText(f"Could not export to {path}: {reason}")
        self.export_message.show()
        return False

    def _showing_live(self) -> bool:
        return self.run_choice.currentIndex() == 0

    @Slot(object)
    def _on_started(self, started) -> None:
        self._set_heading.cancel()
        self._live_epochs = []
        self._live_steps = []
        self._live_end = None
        self.gradients.start(started.steps_per_epoch)
        self.run_choice.setCurrentIndex(0)
        self.curves.clear()
        self.heading.setText(
            f"Training on {started.device}: {started.parameter_count:,} parameters, "
            f"{started.total_epochs} epochs of {started.steps_per_epoch} steps"
        )

    @Slot(list)
    def _on_steps(self, steps) -> None:
        self._live_steps.extend(steps)
        self.gradients.add_steps(steps)
        if self._showing_live():
            self.curves.add_steps(steps)

    @Slot(list)
    def _on_epochs(self, epochs) -> None:
        self._live_epochs.extend(epochs)
        if self._showing_live():
            self.curves.add_epochs(epochs)
            self._show_live_heading()

    def _live_text(self) -> str:
        if not self._live_epochs:
            return self.heading.text()
        last = self._live_epochs[-1]
        text = f"Epoch {last.epoch}: train loss {last.train_loss:.4f}, "
        text += f"validation loss {last.val_loss:.4f}"
        if last.val_accuracy is not None:
            text += f", validation accuracy {last.val_accuracy:.1%}"
        return text

    def _show_live_heading(self) -> None:
        if self._live_end is not None:
            self._show_live_end()
        elif self._live_epochs:
            self._set_heading(self._live_text())

    @Slot(object)
    def _on_ended(self, event) -> None:
        self.curves.flush()  # the last points, without waiting for a redraw
        self.gradients.flush()
        self._set_heading.cancel()
        self._live_end = event  # shown now, or when the live run is chosen again
        if self._showing_live():
            self._show_live_end()

    def _show_live_end(self) -> None:
        """The ended live run's heading and marks (best epoch, early stop)."""
        event = self._live_end
        kind = type(event).__name__
        summary = getattr(event, "summary", None)
        self.curves.mark_best(summary.best_epoch if summary is not None else 0)
        early = kind == "Finished" and event.reason == "early stopping"
        self.curves.mark_early_stop(
            self._live_epochs[-1].epoch if early and self._live_epochs else 0
        )
        text = self._live_text()
        if kind == "Failed":
            self.heading.setText(f"Run failed: {event.message}")
        elif kind == "Stopped":
            self.heading.setText("Stopped. " + text)
        else:
            self.heading.setText(f"Finished ({event.reason}). " + text)

    @Slot()
    def _refresh_runs(self) -> None:
        current = self.run_choice.currentText()
        self.run_choice.blockSignals(True)
        self.run_choice.clear()
        self.run_choice.addItem(LIVE)
        for run in self.session.project.runs:
            self.run_choice.addItem(run.name)
        index = self.run_choice.findText(current)
        self.run_choice.setCurrentIndex(max(0, index))
        self.run_choice.blockSignals(False)

    @Slot()
    def _on_project_loaded(self) -> None:
        self._live_epochs = []
        self._live_steps = []
        self._live_end = None
        self.gradients.start(1)  # the last project's run is gone
        self.curves.clear()
        # runs_changed comes after project_loaded: fill the list now so the
        # newest run can be chosen.
        self._refresh_runs()
        runs = self.session.project.runs
        if runs:
            self.heading.setText(f"{len(runs)} run(s) in this project.")
            self.run_choice.setCurrentIndex(self.run_choice.count() - 1)
        else:
            self.heading.setText("No run yet: press Train to start one.")

    @Slot(int)
    def _on_run_chosen(self, index: int) -> None:
        if index <= 0:
            self.curves.clear()
            self.curves.add_steps(self._live_steps)
            self.curves.add_epochs(self._live_epochs)
            self.curves.flush()
            self._show_live_heading()
            self._set_heading.flush()
            return
        run = self.session.project.runs[index - 1]
        self._set_heading.cancel()  # a live heading still on its way
        self.curves.show_history(
            run.history, run.best_epoch, early_stop=run.ended == "early stopping"
        )
        self.heading.setText(
            f"{run.name}: {run.ended}, {len(run.history)} epochs, "
            f"{run.settings.optimizer} lr {run.settings.learning_rate:g}"
        )


def _render(widget, path: str, kind: str) -> bool:
    # pyqtgraph's own SVG exporter fails on Qt 6.11's path syntax; Qt's
    # generator draws the widget as it is on screen.
    if kind == ".png":
        return widget.grab().save(path, "PNG")
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(widget.size())
    generator.setViewBox(widget.rect())
    # At the generator's default 72 dpi the axes, which pyqtgraph replays
    # from recorded pictures, came out scaled apart from the curves.
    generator.setResolution(widget.logicalDpiX())
    generator.setTitle("Neural Playground training curves")
    painter = QPainter(generator)
    try:
        widget.render(painter)
    finally:
        painter.end()
    return True
