"""Training curves: the live run and the project's past runs, overlaid to
compare, with their settings, final metrics and confusion matrices.

Every run has a key here, which its curves, its row in the run list and the
confusion view share. The running job is the "live" run until it ends and the
window adds its record to the project; the record then takes over the live
curves (with their per-step points) instead of drawing its history again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer, Slot
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFileDialog,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.core.datasets import USER_DATASETS, DatasetError, get_dataset
from playground.core.events import merge_steps, thin_norms
from playground.gui.widgets.confusion_view import ConfusionViewWidget
from playground.gui.widgets.gradient_plots import GradientPlotsWidget
from playground.gui.widgets.live_curves import RUN_COLORS, LiveCurvesWidget
from playground.gui.widgets.run_list import (
    RunListModel,
    RunListWidget,
    RunRow,
    RunTableWidget,
    hex_color,
    live_row,
    parse_color,
    record_row,
)
from playground.gui.widgets.run_tracks import AXES, AXIS_TITLES
from playground.gui.widgets.throttle import LatestOnly

HEADING_MS = 250
LIVE_ROW_MS = 1000  # the live run's row in the table: its metrics, once a second
SMOOTHING_DRAG_MS = 120
POINTS_PER_UPDATE = 4  # step points per engine update (about 30 a second)

LIVE = "Current run"
# the history field that places an epoch on each x axis
AXIS_FIELDS = {"step": "step", "epoch": "epoch", "time": "wall_time"}
# what each picture export is called: in dialogs, file names and the SVG
PLOT_NAMES = {
    "loss": ("loss plot", "loss"),
    "accuracy": ("accuracy plot", "accuracy"),
    "learning_rate": ("learning-rate plot", "learning-rate"),
    "gradient_norm": ("gradient-norm plot", "gradient-norms"),
    "confusion": ("confusion matrix", "confusion-matrix"),
}
# which data each CSV export holds: (dialog title, file name)
CSV_NAMES = {
    "curves": ("the ticked runs' loss and accuracy", "curves"),
    "gradients": ("the chosen run's learning rate and gradient norms", "gradients"),
    "confusion": ("the confusion matrix and per-class metrics", "confusion-matrix"),
}


@dataclass
class _Live:
    """The run the engine is training (or last trained)."""

    key: str
    color: tuple
    settings: object
    dataset: dict
    class_names: list
    known: set  # ids of the project's runs when it started
    epochs: list = field(default_factory=list)
    end: object = None
    record: object = None  # its RunRecord, once the project holds it
    visible: bool = True


class TrainingCurvesTab(QWidget):
    def __init__(self, session, engine, parent=None):
        super().__init__(parent)
        self.session = session
        self.engine = engine
        self._records: list[tuple[object, str]] = []  # (RunRecord, key)
        self._next_key = 0
        self._live: _Live | None = None
        self._class_names_cache: dict = {}
        self._refreshing = False

        self.curves = LiveCurvesWidget(self)
        self.curves.set_streaming(False)  # until a run starts
        QTimer.singleShot(0, self.curves, self.curves.prepare_run)
        self.gradients = GradientPlotsWidget(self)
        self.gradients.hide()
        self.model = RunListModel(self)
        self.run_list = RunListWidget(self.model)
        self.run_table = RunTableWidget(self.model)
        self.confusion = ConfusionViewWidget()

        self.heading = QLabel("No run yet: press Train to start one.")
        self.heading.setObjectName("curvesHeading")
        # New text must not re-lay out the tab (and resize the plots) each time.
        self.heading.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self._set_heading = LatestOnly(self.heading.setText, HEADING_MS, self)
        self.run_choice = QComboBox()
        self.run_choice.setToolTip(
            "The run whose heading, best-epoch and early-stop marks and confusion "
            "matrix are shown (also: click a run in the list). "
            f"\u201c{LIVE}\u201d follows training."
        )
        self.run_choice.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.run_choice.addItem(LIVE, "")
        self.run_choice.currentIndexChanged.connect(self._on_run_chosen)
        self.export_message = QLabel()
        self.export_message.setObjectName("exportMessage")
        self.export_message.setWordWrap(True)
        self.export_message.hide()

        self._build_controls()
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        curves_page = QWidget()
        page = QVBoxLayout(curves_page)
        page.setContentsMargins(0, 4, 0, 0)
        page.addLayout(self._controls)
        page.addWidget(self.curves, 3)
        page.addWidget(self.gradients, 2)
        self.pages.addTab(curves_page, "Curves")
        self.pages.addTab(self.run_table, "Runs table")
        self.pages.addTab(self.confusion, "Confusion matrix")
        self.pages.setTabToolTip(0, "Loss and accuracy of the ticked runs")
        self.pages.setTabToolTip(
            1, "Every run's settings and final metrics, side by side"
        )
        self.pages.setTabToolTip(
            2, "Which classes the chosen run mixes up, at any epoch (classification)"
        )
        self.split = QSplitter(Qt.Horizontal)
        self.split.addWidget(self.run_list)
        self.split.addWidget(self.pages)
        self.split.setStretchFactor(0, 0)
        self.split.setStretchFactor(1, 1)
        self.split.setSizes([190, 1000])
        self.split.setChildrenCollapsible(False)
        self.run_list.setMinimumWidth(150)

        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(QLabel("Run:"))
        top.addWidget(self.run_choice)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.export_message)
        layout.addWidget(self.split, 1)

        self._update_live_row = LatestOnly(self._live_row_now, LIVE_ROW_MS, self)
        self._smooth_later = LatestOnly(
            self.curves.set_smoothing, SMOOTHING_DRAG_MS, self
        )
        self.model.visibility_changed.connect(self._on_visibility)
        self.model.rename_requested.connect(self._on_rename)
        self.run_list.current_changed.connect(self._on_list_current)
        self.run_table.current_changed.connect(self._on_list_current)
        self.run_list.color_requested.connect(self.choose_color)
        self.run_list.delete_requested.connect(self.delete_runs)
        self.run_list.show_only_requested.connect(self.show_only)
        self.run_list.show_all_requested.connect(self.show_all)
        engine.started.connect(self._on_started)
        engine.step_metrics_ready.connect(self._on_steps)
        engine.epoch_metrics_ready.connect(self._on_epochs)
        engine.gradient_norms_ready.connect(self._on_norms)
        engine.run_ended.connect(self._on_ended)
        session.runs_changed.connect(self._refresh_runs)
        session.project_loaded.connect(self._on_project_loaded)

    def _build_controls(self) -> None:
        self.x_axis = QComboBox()
        for axis in AXES:
            self.x_axis.addItem(AXIS_TITLES[axis], axis)
        self.x_axis.setCurrentIndex(AXES.index("epoch"))
        self.x_axis.setToolTip(
            "What the x axis counts: optimizer steps, epochs, or wall time since "
            "the run started (compare runs by speed as well as by progress)"
        )
        self.x_axis.currentIndexChanged.connect(self._on_axis)
        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setFixedWidth(110)
        self.smoothing.setToolTip(
            "Smoothing, as in TensorBoard: an exponential moving average of each "
            "curve (0 = the raw values). The exported data stays unsmoothed."
        )
        self.smoothing_value = QLabel("0.00")
        self.smoothing_value.setMinimumWidth(self.smoothing_value.sizeHint().width())
        self.smoothing.valueChanged.connect(self._on_smoothing)
        self.smoothing.sliderReleased.connect(self._smoothing_released)
        self.log_scale = QCheckBox("Log scale")
        self.log_scale.setToolTip(
            "Show the loss on a log10 axis: small losses stay visible"
        )
        self.log_scale.toggled.connect(self.curves.set_log_scale)
        self.gradients_button = QToolButton()
        self.gradients_button.setText("Learning rate and gradients")
        self.gradients_button.setCheckable(True)
        self.gradients_button.setToolTip(
            "The learning rate and each layer's gradient norm over the chosen run, on a "
            "log scale: vanishing gradients sit decades below the rest, exploding ones "
            "climb. A saved run keeps each epoch's mean norms."
        )
        self.gradients_button.toggled.connect(self.gradients.setVisible)
        self.export_button = QToolButton()
        self.export_button.setText("Export")
        self.export_button.setToolTip(
            "Save a plot as an image (PNG or SVG) or its points as CSV. The "
            "confusion matrix has its own Export on its page."
        )
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        # one CSV per panel: the loss and accuracy plots share their runs and
        # axes (one row a point, the series named), the learning rate and
        # the norms are the chosen run's
        for section in (
            (
                ("Loss plot as PNG\u2026", "loss", "png"),
                ("Loss plot as SVG\u2026", "loss", "svg"),
                ("Accuracy plot as PNG\u2026", "accuracy", "png"),
                ("Accuracy plot as SVG\u2026", "accuracy", "svg"),
                ("Loss and accuracy data as CSV\u2026", "curves", "csv"),
            ),
            (
                ("Learning-rate plot as PNG\u2026", "learning_rate", "png"),
                ("Learning-rate plot as SVG\u2026", "learning_rate", "svg"),
                ("Gradient-norm plot as PNG\u2026", "gradient_norm", "png"),
                ("Gradient-norm plot as SVG\u2026", "gradient_norm", "svg"),
                ("Learning rate and gradient norms as CSV\u2026", "gradients", "csv"),
            ),
        ):
            if menu.actions():
                menu.addSeparator()
            for text, what, suffix in section:
                menu.addAction(text, lambda w=what, s=suffix: self.export_dialog(w, s))
        self.export_button.setMenu(menu)
        self.confusion.export_requested.connect(
            lambda suffix: self.export_dialog("confusion", suffix)
        )
        row = self._controls = QHBoxLayout()
        row.addWidget(QLabel("X axis"))
        row.addWidget(self.x_axis)
        row.addSpacing(10)
        row.addWidget(QLabel("Smoothing"))
        row.addWidget(self.smoothing)
        row.addWidget(self.smoothing_value)
        row.addSpacing(6)
        row.addWidget(self.log_scale)
        row.addWidget(self.gradients_button)
        row.addWidget(self.export_button)
        row.addStretch(1)
        self.crosshair_hint = QLabel("Hover a plot to read its values")
        self.crosshair_hint.setStyleSheet("color: #777;")
        row.addWidget(self.crosshair_hint)

    # -- view options and export ----------------------------------------------------
    @Slot(int)
    def _on_smoothing(self, value: int) -> None:
        self.smoothing_value.setText(f"{value / 100:.2f}")
        if self.smoothing.isSliderDown():
            self._smooth_later(
                value / 100
            )  # a drag: smoothing a long run takes a while
        else:
            self._smooth_later.cancel()
            self.curves.set_smoothing(value / 100)

    def _smoothing_released(self) -> None:
        self._smooth_later.cancel()
        self.curves.set_smoothing(self.smoothing.value() / 100)

    @Slot(int)
    def _on_axis(self, _index: int) -> None:
        axis = self.x_axis.currentData()
        self.curves.set_axis(axis)
        self.gradients.set_axis(axis)
        missing = [
            run.name
            for run, _ in self._records
            if run.visible and run.history and AXIS_FIELDS[axis] not in run.history[0]
        ]
        if missing:
            self._say(
                f"{', '.join(missing)} {'was' if len(missing) == 1 else 'were'} saved "
                f"without {'steps' if axis == 'step' else 'wall times'}: drawn by "
                "epoch only.",
                error=False,
            )
        else:
            self.export_message.hide()

    def set_x_axis(self, axis: str) -> None:
        self.x_axis.setCurrentIndex(AXES.index(axis))

    def export_dialog(self, what: str, suffix: str) -> None:
        """Ask where, then export: a plot (PLOT_NAMES) as "png" or "svg", or
        data (CSV_NAMES; "confusion" means its data here) as "csv"."""
        if suffix == "csv":
            title, stem = CSV_NAMES[what]
        else:
            title, stem = PLOT_NAMES[what]
        path, _ = QFileDialog.getSaveFileName(
            self,
            f"Export {title}",
            f"{stem}.{suffix}",
            f"{suffix.upper()} files (*.{suffix})",
        )
        if not path:
            return
        if suffix == "csv":
            self.export_csv(path, what)
        else:
            self.export_plot(what, path)

    def export_plot_dialog(self, which: str, suffix: str) -> None:
        self.export_dialog(which, suffix)

    def export_plot(self, which: str, path) -> bool:
        """Write a plot (a PLOT_NAMES key) as PNG or SVG, by the file's
        suffix, as it is drawn now."""
        from playground.core.atomic import atomic_path

        path = Path(path)
        kind = path.suffix.lower()
        if kind not in (".png", ".svg"):
            return self._export_failed(path, "the name must end in .png or .svg")
        widget = self._ready_to_draw(which)
        if widget is None:
            return self._export_failed(path, "the chosen run has no confusion matrix")
        try:
            with atomic_path(path) as tmp:
                title = f"Neural Playground {PLOT_NAMES[which][0]}"
                if not _render(widget, tmp, kind, title):
                    raise OSError("the image could not be written")
        except OSError as exc:
            return self._export_failed(path, exc.strerror or str(exc))
        return self._exported(path)

    def _ready_to_draw(self, which: str):
        """The widget of a plot, shown and drawn up to date (None: a
        confusion matrix that is not there)."""
        if which in ("loss", "accuracy"):
            self.curves.hide_crosshair()
            self.curves.flush()
            return self.curves.loss_plot if which == "loss" else self.curves.acc_plot
        if which == "confusion":
            self.show_page("confusion")
            self.confusion.refresh()
            return self.confusion.matrix_widget if self.confusion.has_matrix else None
        if not self.gradients.isVisible():
            # the panel opens: what is exported is what the user then sees
            self.show_page("curves")
            self.gradients_button.setChecked(True)
            self.gradients.parentWidget().layout().activate()
        self.gradients.flush()
        gradients = self.gradients
        return gradients.lr_plot if which == "learning_rate" else gradients.norm_plot

    def export_csv_dialog(self) -> None:
        self.export_dialog("curves", "csv")

    def export_csv(self, path, what: str = "curves") -> bool:
        """Write data as CSV: "curves", the ticked runs' points, one row each
        (run, series, step, epoch, wall time, value); "gradients", the chosen
        run's learning rate and gradient norms in the same columns;
        "confusion", the matrix shown with each class's precision, recall
        and F1."""
        from playground.core.atomic import write_text

        path = Path(path)
        if what == "curves":
            text = self.curves.to_csv()
        elif what == "gradients":
            text = self.gradients.to_csv(self._focus_name())
        else:
            text = self.confusion.to_csv()
            if text is None:
                return self._export_failed(
                    path, "the chosen run has no confusion matrix"
                )
        try:
            write_text(path, text)
        except OSError as exc:
            return self._export_failed(path, exc.strerror or str(exc))
        return self._exported(path)

    def _focus_name(self) -> str:
        """The name of the run the tab is about."""
        run = self._run_of(self._focus_key())
        if run is not None:
            return run.name
        live = self._live
        if live is not None and live.record is not None:
            return live.record.name
        return LIVE

    def _exported(self, path: Path) -> bool:
        self._say(f"Saved {path}", error=False, good=True)
        return True

    def _export_failed(self, path: Path, reason: str) -> bool:
        self._say(f"Could not export to {path}: {reason}")
        return False

    def _say(self, text: str, error: bool = True, good: bool = False) -> None:
        color = "#b00020" if error else "#1b5e20" if good else "#555"
        self.export_message.setStyleSheet(f"color: {color};")
        self.export_message.setText(text)
        self.export_message.show()

    # -- the live run ------------------------------------------------------------------
    def _showing_live(self) -> bool:
        return self.run_choice.currentIndex() == 0

    def _new_key(self) -> str:
        self._next_key += 1
        return f"r{self._next_key}"

    @Slot(object)
    def _on_started(self, started) -> None:
        self._set_heading.cancel()
        self._update_live_row.cancel()
        old = self._live
        if old is not None and old.record is None:
            self.curves.remove_run(old.key)  # a run that never joined the project
        job = getattr(self.engine, "last_job", None)
        dataset = {
            "name": getattr(job, "dataset_name", ""),
            "options": dict(getattr(job, "dataset_options", {}) or {}),
        }
        loaded = getattr(job, "dataset", None)
        names = list(getattr(loaded, "class_names", []) or [])
        self._live = _Live(
            key=self._new_key(),
            color=self._free_color(),
            settings=getattr(job, "settings", self.session.settings),
            dataset=dataset,
            class_names=names,
            known={id(r) for r in self.session.project.runs},
        )
        self.curves.add_run(self._live.key, LIVE, self._live.color)
        self.curves.set_streaming(True)
        self.gradients.start(started.steps_per_epoch, self._live.key)
        self._fill_runs()
        self.run_choice.blockSignals(True)
        self.run_choice.setCurrentIndex(0)
        self.run_choice.blockSignals(False)
        self._focus_live()  # drawn at the next redraw, not in this busy moment
        self.heading.setText(
            f"Training on {started.device}: {started.parameter_count:,} parameters, "
            f"{started.total_epochs} epochs of {started.steps_per_epoch} steps"
        )

    @Slot(list)
    def _on_steps(self, steps) -> None:
        if self._live is None:
            return
        # The lean path reports thousands of steps a second; a few points per
        # update draw the same curve and keep redraws short on long runs.
        steps = merge_steps(steps, POINTS_PER_UPDATE)
        self.curves.add_steps(steps, self._live.key)
        self.gradients.add_steps(steps)

    @Slot(list)
    def _on_norms(self, norms) -> None:
        self.gradients.add_norms(thin_norms(norms, POINTS_PER_UPDATE))

    @Slot(list)
    def _on_epochs(self, epochs) -> None:
        live = self._live
        if live is None:
            return
        live.epochs.extend(epochs)
        self.curves.add_epochs(epochs, live.key)
        self._update_live_row()
        if self._showing_live():
            self._show_live_heading()
            if len(live.epochs) == len(epochs):
                self._show_live_confusion()  # the first epochs say what it is
            elif epochs[0].train_accuracy is not None:
                # drawn at most a few times a second, and only when shown
                self.confusion.add_epochs([e.confusion for e in epochs])

    def _live_text(self) -> str:
        live = self._live
        if live is None or not live.epochs:
            return self.heading.text()
        last = live.epochs[-1]
        # significant digits: a well-fitted loss of 3e-5 is not "0.0000"
        text = f"Epoch {last.epoch}: train loss {last.train_loss:.4g}, "
        text += f"validation loss {last.val_loss:.4g}"
        if last.val_accuracy is not None:
            text += f", validation accuracy {last.val_accuracy:.1%}"
        return text

    def _show_live_heading(self) -> None:
        if self._live is None:
            return
        if self._live.end is not None:
            self._show_live_end()
        elif self._live.epochs:
            self._set_heading(self._live_text())

    @Slot(object)
    def _on_ended(self, event) -> None:
        self.curves.flush()  # the last points, without waiting for a redraw
        self.curves.set_streaming(False)
        QTimer.singleShot(0, self.curves, self.curves.prepare_run)  # for the next run
        self.gradients.set_streaming(False)
        self.gradients.flush()
        self._set_heading.cancel()
        if self._live is None:
            return
        self._live.end = event  # shown now, or when the live run is chosen again
        self._update_live_row.cancel()
        self._live_row_now()
        if self._showing_live():
            self._show_live_end()
        self._refresh_runs()  # its record may already be in the project

    def _show_live_end(self) -> None:
        """The ended live run's heading and marks (best epoch, early stop)."""
        live = self._live
        event = live.end
        kind = type(event).__name__
        summary = getattr(event, "summary", None)
        self.curves.mark_best(summary.best_epoch if summary is not None else 0)
        early = kind == "Finished" and event.reason == "early stopping"
        self.curves.mark_early_stop(
            live.epochs[-1].epoch if early and live.epochs else 0
        )
        text = self._live_text()
        if kind == "Failed":
            self.heading.setText(f"Run failed: {event.message}")
        elif kind == "Stopped":
            self.heading.setText("Stopped. " + text)
        else:
            self.heading.setText(f"Finished ({event.reason}). " + text)

    def _live_row(self) -> RunRow:
        live = self._live
        return live_row(
            live.key,
            LIVE,
            live.color,
            live.visible,
            live.settings,
            live.dataset["name"],
            live.epochs,
            live.end,
        )

    def _live_row_now(self) -> None:
        if self._live is not None and self._live.record is None:
            self.model.update_row(self._live_row())

    # -- the project's runs -----------------------------------------------------------
    def _run_of(self, key: str):
        for r, k in self._records:
            if k == key:
                return r
        return None

    def _color_of(self, run) -> tuple:
        color = parse_color(run.color) if run.color else None
        if color is not None:
            return color
        runs = self.session.project.runs
        index = next((i for i, r in enumerate(runs) if r is run), len(runs))
        return RUN_COLORS[index % len(RUN_COLORS)]

    def _free_color(self) -> tuple:
        used = {self._color_of(r) for r in self.session.project.runs}
        for color in RUN_COLORS:
            if color not in used:
                return color
        return RUN_COLORS[len(self.session.project.runs) % len(RUN_COLORS)]

    def _adopts(self, run) -> bool:
        """Whether a record new to the project is the live run's."""
        live = self._live
        if live is None or live.record is not None or id(run) in live.known:
            return False
        if run.settings is live.settings:
            return True
        return live.end is not None and len(run.history) == len(live.epochs)

    @Slot()
    def _refresh_runs(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        pending = []
        try:
            pending = self._sync_runs()
            self._fill_runs()
        finally:
            self._refreshing = False
        live = self._live
        if live is not None and live.record is not None and self._showing_live():
            self.confusion.set_title(live.record.name)
        for run, changes in pending:  # the live run's looks, now the project's
            self.session.set_run_view(run, **changes)

    def _sync_runs(self) -> list:
        runs = list(self.session.project.runs)
        current = {id(r) for r in runs}
        live = self._live
        for run, key in self._records:
            if id(run) not in current:
                self.curves.remove_run(key)
                self.gradients.forget(key)
                if live is not None and live.record is run:
                    self._live = live = None  # the user deleted it
        kept = {id(r): k for r, k in self._records if id(r) in current}
        pending = []
        records = []
        for run in runs:
            key = kept.get(id(run))
            if key is None and self._adopts(run):
                key = live.key
                live.record = run
                changes = {}
                if not run.color:
                    changes["color"] = hex_color(live.color)
                if not live.visible:
                    changes["visible"] = False
                if changes:
                    pending.append((run, changes))
                self.curves.set_run_style(key, name=run.name)
            elif key is None:
                key = self._new_key()
                self.curves.add_run(key, run.name, self._color_of(run), run.visible)
                self.curves.set_history(key, run.history, run.step_series)
            records.append((run, key))
        self._records = records
        for run, key in records:
            if any(r is run for r, _ in pending):  # the project takes these next
                color, visible = live.color, live.visible
            else:
                color, visible = self._color_of(run), run.visible
            self.curves.set_run_style(key, name=run.name, color=color, visible=visible)
        return pending

    def _fill_runs(self) -> None:
        """The list, the table and the run choice after runs changed."""
        rows = [self._record_row(run, key) for run, key in self._records]
        if self._live is not None and self._live.record is None:
            rows.append(self._live_row())
        self.model.set_rows(rows)
        focus = self._focus_key()
        index = self.run_choice.currentIndex()
        entries = [(run.name, key) for run, key in self._records]
        choice = self.run_choice
        shown = [
            (choice.itemText(i), choice.itemData(i)) for i in range(1, choice.count())
        ]
        choice.blockSignals(True)
        if entries != shown:
            choice.clear()
            choice.addItem(LIVE, "")
            for name, key in entries:
                choice.addItem(name, key)
        if index > 0:
            index = self.run_choice.findData(focus) if focus else -1
            if index < 0:  # the run shown was deleted
                index = 0
                self.run_choice.setCurrentIndex(0)
                self.run_choice.blockSignals(False)
                self._on_run_chosen(0)
                return
        self.run_choice.setCurrentIndex(max(0, index))
        self.run_choice.blockSignals(False)
        self.run_list.select(focus)
        self.run_table.select(focus)

    def _record_row(self, run, key: str) -> RunRow:
        live = self._live
        if live is not None and live.record is run and not run.color:
            color = live.color  # until the project takes it, just after
        else:
            color = self._color_of(run)
        return record_row(run, key, color)

    @Slot()
    def _on_project_loaded(self) -> None:
        self._set_heading.cancel()
        self._update_live_row.cancel()
        self._live = None
        self._records = []
        self.gradients.clear()  # the last project's runs are gone
        self.curves.clear()
        self.curves.set_streaming(False)
        self.confusion.clear("No run chosen.")
        # runs_changed comes after project_loaded: fill the list now so the
        # newest run can be chosen.
        self._refresh_runs()
        runs = self.session.project.runs
        if runs:
            self.heading.setText(f"{len(runs)} run(s) in this project.")
            self.run_choice.setCurrentIndex(self.run_choice.count() - 1)
        else:
            self.run_choice.setCurrentIndex(0)
            self._on_run_chosen(0)
            self.heading.setText("No run yet: press Train to start one.")
        if self.x_axis.currentData() != "epoch":
            self._on_axis(0)  # say which runs lack the axis

    # -- what is shown -----------------------------------------------------------------
    def _focus_key(self) -> str:
        index = self.run_choice.currentIndex()
        if index <= 0:
            return self._live.key if self._live is not None else ""
        return self.run_choice.itemData(index) or ""

    @Slot(int)
    def _on_run_chosen(self, index: int) -> None:
        if index <= 0:
            self._focus_live()
            self.curves.flush()
            return
        key = self.run_choice.itemData(index)
        run = self._run_of(key)
        if run is None:
            return
        self._set_heading.cancel()  # a live heading still on its way
        self.curves.set_focus(key)
        self.gradients.show_run(key, run)
        self.curves.mark_best(run.best_epoch)
        early = run.ended == "early stopping" and run.history
        self.curves.mark_early_stop(run.history[-1]["epoch"] if early else 0)
        hidden = "" if run.visible else " (hidden: tick it in the run list to draw it)"
        self.heading.setText(
            f"{run.name}: {run.ended}, {len(run.history)} epochs, "
            f"{run.settings.optimizer} lr {run.settings.learning_rate:g}{hidden}"
        )
        self.curves.flush()
        self.run_list.select(key)
        self.run_table.select(key)
        self._show_record_confusion(run)

    def _focus_live(self) -> None:
        live = self._live
        key = live.key if live is not None else ""
        self.curves.set_focus(key or None)
        self.gradients.show_run(key or None)
        self.run_list.select(key)
        self.run_table.select(key)
        if live is None:
            self.confusion.clear("No run yet: train one, or pick one in the run list.")
            return
        self._show_live_heading()
        self._set_heading.flush()
        self._show_live_confusion()

    def _show_live_confusion(self) -> None:
        live = self._live
        if live.epochs and live.epochs[0].train_accuracy is None:
            self.confusion.clear(
                "Confusion matrices are for classification; this run is a regression."
            )
        elif not live.epochs:
            self.confusion.clear("The confusion matrix appears after the first epoch.")
        else:
            names = live.class_names or self._class_names(live.dataset)
            title = live.record.name if live.record is not None else LIVE
            self.confusion.set_run(title, [e.confusion for e in live.epochs], names)

    def _show_record_confusion(self, run) -> None:
        history = run.history
        matrices = [h.get("confusion") for h in history]  # arrays when drawn
        if not history:
            self.confusion.clear(f"{run.name} has no epochs.")
        elif "val_accuracy" not in history[0]:
            self.confusion.clear(
                f"Confusion matrices are for classification; {run.name} is a regression."
            )
        elif all(m is None for m in matrices):
            self.confusion.clear(
                f"{run.name} was saved without confusion matrices (by an older "
                "version): train it again to see them."
            )
        else:
            size = next(len(m) for m in matrices if m is not None)
            self.confusion.set_run(
                run.name, matrices, self._class_names(run.dataset, size)
            )

    def _class_names(self, dataset: dict, size: int = 0) -> list[str]:
        """A run's class names: kept with the run, the open dataset's if it is
        the same data, a built-in dataset's (loaded once), else numbers."""
        names = dataset.get("class_names")
        if isinstance(names, list) and (not size or len(names) == size):
            return [str(n) for n in names]
        name = dataset.get("name", "")
        options = dataset.get("options", {}) or {}
        key = (name, tuple(sorted((k, repr(v)) for k, v in options.items())))
        if key not in self._class_names_cache:
            names = []
            p = self.session.project
            try:
                if name == p.dataset_name and options == p.dataset_options:
                    names = list(self.session.dataset().class_names)
                elif name not in USER_DATASETS:
                    # built-in data is small; the user's files may take a
                    # while to read, which the window's thread cannot afford
                    names = list(get_dataset(name, **options).class_names)
            except (DatasetError, OSError, ValueError, TypeError):
                names = []  # a renamed dataset, changed options: numbers will do
            self._class_names_cache[key] = names
        names = self._class_names_cache[key]
        return (
            names if not size or len(names) == size else [str(i) for i in range(size)]
        )

    @Slot(str)
    def _on_list_current(self, key: str) -> None:
        if not key or key == self._focus_key():
            return
        live = self._live
        if live is not None and key == live.key and live.record is None:
            self.run_choice.setCurrentIndex(0)
            return
        index = self.run_choice.findData(key)
        if index > 0:
            self.run_choice.setCurrentIndex(index)

    def show_page(self, name: str) -> None:
        """ "curves", "table" or "confusion"."""
        self.pages.setCurrentIndex(("curves", "table", "confusion").index(name))

    # -- editing runs -----------------------------------------------------------------
    @Slot(str, bool)
    def _on_visibility(self, key: str, visible: bool) -> None:
        self.set_visible([key], visible)

    def set_visible(self, keys, visible: bool) -> None:
        live = self._live
        for key in keys:
            run = self._run_of(key)
            if run is not None:
                self.session.set_run_view(run, visible=visible)
            elif live is not None and key == live.key:
                live.visible = visible
                self.curves.set_run_style(key, visible=visible)
                self._live_row_now()

    def show_only(self, key: str) -> None:
        keys = self.model.keys()
        self.set_visible([k for k in keys if k != key], False)
        self.set_visible([key], True)

    def show_all(self) -> None:
        self.set_visible(self.model.keys(), True)

    @Slot(str, str)
    def _on_rename(self, key: str, name: str) -> None:
        self.rename_run(key, name)

    def rename_run(self, key: str, name: str) -> bool:
        run = self._run_of(key)
        if run is None:
            return False
        try:
            self.session.rename_run(run, name)
        except ValueError as exc:
            self._say(f"Could not rename {run.name}: {exc}")
            self._fill_runs()  # the list shows the old name again
            return False
        self.export_message.hide()
        if self.run_choice.currentData() == key:
            self._on_run_chosen(self.run_choice.currentIndex())
        return True

    def choose_color(self, keys) -> None:
        first = self.model.run_row(keys[0])
        title = f"Colour of {first.name}" if len(keys) == 1 else "Colour of the runs"
        color = QColorDialog.getColor(QColor(*first.color[:3]), self, title)
        if color.isValid():
            self.set_color(keys, (color.red(), color.green(), color.blue()))

    def set_color(self, keys, color: tuple) -> None:
        live = self._live
        for key in keys:
            run = self._run_of(key)
            if run is not None:
                self.session.set_run_view(run, color=hex_color(color))
            elif live is not None and key == live.key:
                live.color = color
                self.curves.set_run_style(key, color=color)
                self._live_row_now()

    def delete_runs(self, keys, confirm: bool = True) -> bool:
        """Delete runs from the project, after asking (unless confirm is False)."""
        runs = [r for r in (self._run_of(k) for k in keys) if r is not None]
        if not runs:
            return False
        if confirm:
            names = ", ".join(r.name for r in runs)
            answer = QMessageBox.question(
                self,
                "Delete runs" if len(runs) > 1 else "Delete run",
                f"Delete {names} from the project? Its curves, metrics and weights "
                "go with it; this cannot be undone (until you reopen the saved file).",
                QMessageBox.Yes | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            if answer != QMessageBox.Yes:
                return False
        # Automatic colours go by place in the list: pin the others' first, so
        # deleting one run does not repaint the rest.
        doomed = {id(r) for r in runs}
        for run in list(self.session.project.runs):
            if id(run) not in doomed and not run.color:
                self.session.set_run_view(run, color=hex_color(self._color_of(run)))
        self.session.delete_runs(runs)
        return True


def _render(widget, path: str, kind: str, title: str) -> bool:
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
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        if isinstance(widget, QGraphicsView):  # a plot: its scene, as shown
            widget.render(painter)
        else:  # a painted widget (the confusion matrix)
            widget.render(painter, QPoint())
    finally:
        painter.end()
    return True
