"""Training curves: live loss and accuracy of the running job, and past runs."""

from __future__ import annotations

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

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

        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.run_choice)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.curves, 1)

        self._live_epochs = []
        self._live_steps = []
        engine.started.connect(self._on_started)
        engine.step_metrics_ready.connect(self._on_steps)
        engine.epoch_metrics_ready.connect(self._on_epochs)
        engine.run_ended.connect(self._on_ended)
        session.runs_changed.connect(self._refresh_runs)
        session.project_loaded.connect(self._on_project_loaded)

    def _showing_live(self) -> bool:
        return self.run_choice.currentIndex() == 0

    @Slot(object)
    def _on_started(self, started) -> None:
        self._set_heading.cancel()
        self._live_epochs = []
        self._live_steps = []
        self.run_choice.setCurrentIndex(0)
        self.curves.clear()
        self.heading.setText(
            f"Training on {started.device}: {started.parameter_count:,} parameters, "
            f"{started.total_epochs} epochs of {started.steps_per_epoch} steps"
        )

    @Slot(list)
    def _on_steps(self, steps) -> None:
        self._live_steps.extend(steps)
        if self._showing_live():
            self.curves.add_steps(steps)

    @Slot(list)
    def _on_epochs(self, epochs) -> None:
        self._live_epochs.extend(epochs)
        if self._showing_live():
            self.curves.add_epochs(epochs)
            self._show_live_heading()

    def _show_live_heading(self) -> None:
        if not self._live_epochs:
            return
        last = self._live_epochs[-1]
        text = f"Epoch {last.epoch}: train loss {last.train_loss:.4f}, "
        text += f"validation loss {last.val_loss:.4f}"
        if last.val_accuracy is not None:
            text += f", validation accuracy {last.val_accuracy:.1%}"
        self._set_heading(text)

    @Slot(object)
    def _on_ended(self, event) -> None:
        self.curves.flush()  # the last points, without waiting for a redraw
        if not self._showing_live():
            return  # a past run is on show; its heading stays
        self._set_heading.flush()
        text = self.heading.text()
        kind = type(event).__name__
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
        self.curves.show_history(run.history)
        self.heading.setText(
            f"{run.name}: {run.ended}, {len(run.history)} epochs, "
            f"{run.settings.optimizer} lr {run.settings.learning_rate:g}"
        )
