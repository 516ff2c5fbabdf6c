"""The main window: six tabs, menus, the Train / Pause / Stop toolbar, status."""

from __future__ import annotations

import gc
import os
import platform
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from playground import __version__
from playground.core.events import Finished, Stopped
from playground.core.project import ProjectError, run_from_summary, user_data_path
from playground.core.spec import SpecError, load_spec, save_spec
from playground.gui import preferences
from playground.gui.autosave import Autosaver, pending_recoveries
from playground.gui.engine import TrainingEngine, TrainingJob
from playground.gui.session import Session
from playground.gui.tabs.builder_tab import NetworkBuilderTab
from playground.gui.tabs.curves_tab import TrainingCurvesTab
from playground.gui.tabs.filter_lab_tab import FilterLabTab
from playground.gui.tabs.placeholder_tab import PLACEHOLDERS, PlaceholderTab
from playground.gui.widgets.throttle import LatestOnly, set_drawing_hold

TAB_TITLES = (
    "Network builder",
    "Convolution filter lab",
    "Training curves",
    "Attention heatmaps",
    "Latent space",
    "Diffusion steps",
)
STATUS_MS = 250  # readable, and cheap for the thread that shares Python's lock
PROJECT_FILTER = "Neural Playground projects (*.npg)"
SPEC_FILTER = "Network specs (*.json)"
CURVE_PAGES = ("curves", "table", "confusion")


class TorchLoader(QObject):
    """Imports torch off the GUI thread after the window shows, so the first
    Train click does not wait 1-2 s and the window paints before torch loads."""

    loaded = Signal(dict)

    def __init__(self, parent=None, threads: int | None = None):
        super().__init__(parent)
        self._threads = threads

    def start(self) -> None:
        threading.Thread(target=self._load, name="torch-import", daemon=True).start()

    def _load(self) -> None:
        info = {}
        try:
            import torch

            from playground.core.devices import describe_device, resolve_device

            # The first optimizer of a process imports torch._dynamo (~1.5 s
            # here): pay that now, not on the first Train click.
            torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
            # numpy imports numpy.ma on the first percentile (~60 ms here),
            # which the plots' ranges call on the GUI thread mid-run.
            import numpy.ma  # noqa: F401
            info["torch"] = torch.__version__
            info["cuda"] = bool(torch.cuda.is_available())
            info["device"] = describe_device(resolve_device("auto"), self._threads)
        except Exception as exc:  # shown in About; training will report it too
            info["error"] = str(exc)
        self.loaded.emit(info)


class MainWindow(QMainWindow):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.resize(1200, 780)
        self.session = Session(self)
        self.session.view_source = self.view_state
        self.autosaver = Autosaver(self.session, self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        self._recovery_offered = False
        self.engine = TrainingEngine(self)
        set_drawing_hold(self.engine.holding)
        self.torch_info: dict = {}
        self._last_epoch = None
        self._total_epochs = 0

        self._build_banner()
        self._build_tabs()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status()

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        s, e = self.session, self.engine
        s.dirty_changed.connect(self._update_title)
        s.path_changed.connect(self._update_title)
        for signal in (s.dirty_changed, s.path_changed, s.dataset_changed):
            signal.connect(self._update_file_actions)
        s.project_loaded.connect(self._update_file_actions)
        s.problem_changed.connect(self._update_actions)
        e.state_changed.connect(self._update_actions)
        e.started.connect(self._on_started)
        e.step_metrics_ready.connect(self._on_steps)
        e.epoch_metrics_ready.connect(self._on_epochs)
        e.run_ended.connect(self._on_run_ended)
        self._update_title()
        self._update_actions()

        self.torch_loader = TorchLoader(self, self.engine.torch_threads)
        self.torch_loader.loaded.connect(self._on_torch_loaded)

    # -- construction -----------------------------------------------------------
    def _build_banner(self):
        self.banner = QWidget()
        self.banner.setObjectName("banner")
        self.banner.setStyleSheet(
            "#banner { background: #fdecea; border: 1px solid #f5c2c0; border-radius: 4px; }"
        )
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(8, 4, 8, 4)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        close = QPushButton("Dismiss")
        close.clicked.connect(self.banner.hide)
        row.addWidget(self.banner_text, 1)
        row.addWidget(close)
        self.banner.hide()

    def show_message(self, text: str) -> None:
        """A problem the user should read, shown in place (no modal pop-up)."""
        self.banner_text.setText(text)
        self.banner.show()
        self.statusBar().showMessage(text, 10_000)

    def _build_tabs(self):
        self.tabs = QTabWidget()
        self.builder_tab = NetworkBuilderTab(self.session, self.engine)
        self.curves_tab = TrainingCurvesTab(self.session, self.engine)
        self.filter_tab = FilterLabTab(self.session, self.engine)
        for title in TAB_TITLES:
            if title == "Network builder":
                widget = self.builder_tab
            elif title == "Convolution filter lab":
                widget = self.filter_tab
            elif title == "Training curves":
                widget = self.curves_tab
            else:
                widget = PlaceholderTab(title, PLACEHOLDERS[title])
            self.tabs.addTab(widget, title)
        self.filter_tab.cnn_panel.template_requested.connect(self._open_template)

    @Slot()
    def export_model_dialog(self):
        from playground.gui.export_dialog import ExportDialog

        dialog = ExportDialog(self.session, self)
        dialog.exec()
        dialog.deleteLater()  # also drops its runs_changed connection

    @Slot()
    def import_weights_dialog(self):
        from playground.gui.import_weights import import_weights_dialog

        import_weights_dialog(self.session, self)

    @Slot(str)
    def _open_template(self, key: str) -> None:
        """A tab asks for a template (the filter lab's "Open LeNet-5"): it
        opens in the builder, ready to train."""
        if self.engine.state != "idle":
            self.show_message("Stop training first, then open the template.")
            return
        self.builder_tab.apply_template(key)
        self.tabs.setCurrentWidget(self.builder_tab)

    def _action(self, text, slot, shortcut=None, tip=None):
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self):
        self.new_action = self._action("&New", self.new_project, QKeySequence.New)
        self.open_action = self._action("&Open\u2026", self.open_project_dialog, QKeySequence.Open)
        self.save_action = self._action("&Save", self.save_project, QKeySequence.Save)
        self.save_as_action = self._action(
            "Save &As\u2026", self.save_project_as, QKeySequence.SaveAs
        )
        self.revert_action = self._action(
            "&Revert", self.revert_project, None,
            "Drop the unsaved changes and reload the project from its file",
        )
        self.embed_action = self._action(
            "&Embed data in project", self._on_embed_toggled, None,
            "Keep a copy of your CSV file or image folder inside the project "
            "file, so it opens where the original is not (another computer)",
        )
        self.embed_action.setCheckable(True)
        self.import_spec_action = self._action(
            "&Import network (JSON)\u2026", self.import_spec_dialog
        )
        self.export_spec_action = self._action(
            "&Export network (JSON)\u2026", self.export_spec_dialog
        )
        self.export_model_action = self._action(
            "E&xport model\u2026",
            self.export_model_dialog,
            None,
            "Export a trained run as ONNX, TorchScript, safetensors or a Python script",
        )
        self.import_weights_action = self._action(
            "Import &weights\u2026",
            self.import_weights_dialog,
            None,
            "Add weights from a .safetensors or .pt file as a run of this network",
        )
        self.quit_action = self._action("&Quit", self.close, QKeySequence.Quit)
        self.about_action = self._action("&About Neural Playground", self.show_about)
        self.train_action = self._action(
            "Train", self.train, "Ctrl+Return", "Train the network on the dataset"
        )
        self.pause_action = self._action(
            "Pause", self.engine.toggle_pause, "Ctrl+P", "Pause or resume training"
        )
        self.pause_action.setCheckable(True)
        self.stop_action = self._action(
            "Stop", self.engine.stop, "Esc", "Stop training and keep the weights"
        )
        self.step_action = self._action(
            "Step", self.step_once, "Ctrl+Right",
            "Train on one batch, then wait: follow backpropagation one step at a time",
        )
        # Space trains, pauses and resumes (text fields keep their spaces: a
        # focused editor claims the key before shortcuts see it).
        self.space_action = self._action("Train or pause", self.train_or_pause, "Space")
        self.addAction(self.space_action)

    def _build_menus(self):
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        file_menu.addSeparator()
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_as_action)
        file_menu.addAction(self.revert_action)
        file_menu.addAction(self.embed_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_spec_action)
        file_menu.addAction(self.export_spec_action)
        file_menu.addSeparator()
        file_menu.addAction(self.import_weights_action)
        file_menu.addAction(self.export_model_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = bar.addMenu("&Train")
        for a in (self.train_action, self.pause_action, self.stop_action, self.step_action):
            train_menu.addAction(a)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.about_action)

    def _build_toolbar(self):
        bar = QToolBar("Training")
        bar.setObjectName("trainingToolbar")
        bar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        bar.setMovable(False)
        bar.addAction(self.train_action)
        bar.addAction(self.pause_action)
        bar.addAction(self.stop_action)
        bar.addAction(self.step_action)
        bar.addSeparator()
        bar.addWidget(QLabel(" Device: "))
        self.device_choice = QComboBox()
        self.device_choice.setObjectName("deviceChoice")
        for name, text in (("auto", "auto"), ("cpu", "CPU"), ("cuda", "CUDA GPU"), ("mps", "Apple MPS")):
            self.device_choice.addItem(text, name)
        self.device_choice.setToolTip("Where training runs; auto picks CUDA, then MPS, then CPU")
        self.device_choice.currentIndexChanged.connect(self._on_device_chosen)
        bar.addWidget(self.device_choice)
        self.device_label = QLabel("  (loading PyTorch\u2026)")
        bar.addWidget(self.device_label)
        self.addToolBar(bar)
        self.session.settings_changed.connect(self._show_device_setting)
        self._show_device_setting()

    def _build_status(self):
        sb = self.statusBar()
        self.state_label = QLabel("Ready")
        self.epoch_label = QLabel("Epoch \u2013")
        self.loss_label = QLabel("Loss \u2013")
        self.speed_label = QLabel("\u2013 examples/s")
        for w in (self.state_label, self.epoch_label, self.loss_label, self.speed_label):
            w.setMinimumWidth(110)
            sb.addPermanentWidget(w)
        self._show_step = LatestOnly(self._show_step_now, STATUS_MS, self)
        self._show_epoch = LatestOnly(self.epoch_label.setText, STATUS_MS, self)

    # -- titles and enabled states ---------------------------------------------------
    @Slot()
    def _update_title(self, *_):
        path = self.session.path
        name = Path(path).name if path else "Untitled"
        self.setWindowTitle(f"{name}[*] \u2014 Neural Playground")
        self.setWindowModified(self.session.dirty)

    @Slot()
    def _update_actions(self, *_):
        state = self.engine.state
        idle = state == "idle"
        can_train = idle and self.session.can_train
        self.train_action.setEnabled(can_train)
        reason = self.session.problem if idle else "a run is in progress"
        self.train_action.setToolTip(
            "Train the network on the dataset" if can_train else f"Cannot train: {reason}"
        )
        self.pause_action.setEnabled(state in ("running", "paused"))
        self.pause_action.blockSignals(True)
        self.pause_action.setChecked(state == "paused")
        self.pause_action.setText("Resume" if state == "paused" else "Pause")
        self.pause_action.blockSignals(False)
        self.stop_action.setEnabled(state in ("running", "paused"))
        self.step_action.setEnabled(can_train or state == "paused")
        for a in (self.new_action, self.open_action, self.import_spec_action):
            a.setEnabled(idle)
        self._update_file_actions()
        self.device_choice.setEnabled(idle)
        self.builder_tab.set_editable(idle)
        self.state_label.setText(
            {"idle": "Ready", "running": "Training", "paused": "Paused", "stopping": "Stopping\u2026"}[state]
        )

    @Slot()
    def _update_file_actions(self, *_):
        s = self.session
        idle = self.engine.state == "idle"
        self.revert_action.setEnabled(idle and s.path is not None and s.dirty)
        self.embed_action.setEnabled(user_data_path(s.project) is not None)
        self.embed_action.blockSignals(True)
        self.embed_action.setChecked(s.project.embed_data)
        self.embed_action.blockSignals(False)

    @Slot()
    def _show_device_setting(self, *_):
        index = self.device_choice.findData(self.session.settings.device)
        self.device_choice.blockSignals(True)
        self.device_choice.setCurrentIndex(max(0, index))
        self.device_choice.blockSignals(False)

    @Slot(int)
    def _on_device_chosen(self, index):
        device = self.device_choice.itemData(index)
        if device and device != self.session.settings.device:
            self.session.set_settings(self.session.settings.replace(device=device))

    @Slot(dict)
    def _on_torch_loaded(self, info: dict):
        self.torch_info = info
        # torch leaves ~100k long-lived objects; a full collection walking
        # them stalls the window 100+ ms mid-training. Freeze them once.
        gc.collect()
        gc.freeze()
        if "error" in info:
            self.device_label.setText("  PyTorch failed to load")
            self.show_message(f"PyTorch could not be loaded: {info['error']}")
            return
        self.device_label.setText(f"  {info['device']}")
        model = self.device_choice.model()
        for name, available in (("cuda", info["cuda"]), ("mps", "MPS" in info["device"])):
            item = model.item(self.device_choice.findData(name))
            item.setEnabled(bool(available))
            self.builder_tab.hyper_panel.set_device_available(name, available)

    # -- training ----------------------------------------------------------------
    @Slot()
    def train_or_pause(self):
        # The Space shortcut would otherwise take the key from the focused
        # check box, button or list box, which a keyboard user toggles with it.
        focus = QApplication.focusWidget()
        if isinstance(focus, QAbstractButton) and focus.isEnabled():
            focus.animateClick()
            return
        if isinstance(focus, QComboBox) and focus.isEnabled():
            focus.showPopup()
            return
        state = self.engine.state
        if state == "idle":
            self.train()
        elif state in ("running", "paused"):
            self.engine.toggle_pause()

    @Slot()
    def step_once(self):
        """One batch: from idle a new run that pauses after its first batch."""
        if self.engine.state == "paused":
            self.engine.step_once()
        elif self.engine.state == "idle":
            self.train(single_step=True)

    @Slot()
    def train(self, single_step: bool = False):
        if not self.engine.busy and not self.session.can_train:
            self.show_message(f"Cannot train: {self.session.problem}")
            return
        try:
            dataset = self.session.dataset()
        except Exception as exc:
            self.show_message(f"Cannot load the dataset: {exc}")
            return
        p = self.session.project
        job = TrainingJob(
            spec=p.spec,
            dataset_name=p.dataset_name,
            dataset_options=dict(p.dataset_options),
            settings=p.settings,
            dataset=dataset,
        )
        started = self.engine.start(
            job, single_step=single_step, probe=self.builder_tab.probe()
        )
        if not started:
            self.show_message("A run is already in progress: stop it first.")
            return
        self.banner.hide()
        self._last_epoch = None
        self._total_epochs = p.settings.epochs
        self._show_step.cancel()
        self._show_epoch.cancel()
        self.epoch_label.setText(f"Epoch 0/{p.settings.epochs}")
        self.loss_label.setText("Loss \u2013")
        self.speed_label.setText("\u2013 examples/s")
        if self.tabs.currentWidget() not in (self.builder_tab, self.curves_tab):
            # a tab with nothing live to show: the curves say how it goes; the
            # builder keeps its place, its network view follows the training
            self.tabs.setCurrentWidget(self.curves_tab)

    @Slot(object)
    def _on_started(self, started):
        self._total_epochs = started.total_epochs
        self.epoch_label.setText(f"Epoch 0/{started.total_epochs}")

    @Slot(list)
    def _on_steps(self, steps):
        self._show_step(steps[-1])

    def _show_step_now(self, last):
        # Significant digits: a well-fitted spiral's 3e-5 read "0.0000".
        self.loss_label.setText(f"Loss {last.loss:.4g}")
        self.speed_label.setText(f"{last.examples_per_second:,.0f} examples/s")

    @Slot(list)
    def _on_epochs(self, epochs):
        self._show_epoch(f"Epoch {epochs[-1].epoch}/{self._total_epochs}")

    @Slot(object)
    def _on_run_ended(self, event):
        self._show_step.flush()
        self._show_epoch.flush()
        summary = getattr(event, "summary", None)
        if isinstance(event, Finished):
            ended, message = event.reason, ""
        elif isinstance(event, Stopped):
            ended, message = "stopped", ""
        else:
            ended, message = "failed", event.message
            self.show_message(f"Training failed: {event.message}")
        if summary is not None and (summary.history or summary.state_dict):
            # What the run was started with, not what the panels say now.
            job = self.engine.last_job
            run = run_from_summary(
                self.session.project, summary, ended, message,
                settings=job.settings,
                spec=job.spec,
                dataset={
                    "name": job.dataset_name,
                    "options": job.dataset_options,
                    "class_names": getattr(job.dataset, "class_names", None) or [],
                },
            )
            self.session.add_run(run)
            final = run.final_metrics()
            text = f"{run.name} {ended}"
            if "val_accuracy" in final:
                text += f": validation accuracy {final['val_accuracy']:.1%}"
            elif "val_loss" in final:
                text += f": validation loss {final['val_loss']:.4g}"
            self.statusBar().showMessage(text, 15_000)

    # -- files ------------------------------------------------------------------
    def _confirm_discard(self) -> bool:
        """Ask before unsaved work is lost; True when it is fine to go on."""
        if not self.session.dirty:
            return True
        answer = QMessageBox.question(
            self,
            "Unsaved changes",
            "The project has unsaved changes. Save them first?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Save,
        )
        if answer == QMessageBox.Save:
            return self.save_project()
        return answer == QMessageBox.Discard

    @Slot()
    def new_project(self):
        if self.engine.busy or not self._confirm_discard():
            return
        self.session.new_project()

    @Slot()
    def open_project_dialog(self):
        if self.engine.busy or not self._confirm_discard():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_project(path)

    def open_project(self, path) -> bool:
        try:
            self.session.open(path)
        except ProjectError as exc:
            self.show_message(f"Could not open the project: {exc}")
            return False
        preferences.add_recent_file(str(path))
        self._opened()
        return True

    def _opened(self) -> None:
        """After a project replaced the open one: its view, and what the
        user must know about its data."""
        self.apply_view(self.session.project.view)
        if self.session.data_note:
            self.show_message(self.session.data_note)
        else:
            self.banner.hide()

    @Slot()
    def revert_project(self) -> bool:
        """Reload the project's file after asking; the open project stays
        when the file cannot be read."""
        s = self.session
        if self.engine.busy or s.path is None or not s.dirty:
            return False
        answer = QMessageBox.question(
            self,
            "Revert",
            f"Drop the unsaved changes and reload {s.path.name} from disk?",
            QMessageBox.Discard | QMessageBox.Cancel,
            QMessageBox.Cancel,
        )
        if answer != QMessageBox.Discard:
            return False
        try:
            s.revert()
        except ProjectError as exc:
            self.show_message(f"Could not revert: {exc}")
            return False
        self._opened()
        self.statusBar().showMessage(f"Reverted to {s.path}", 5_000)
        return True

    @Slot(bool)
    def _on_embed_toggled(self, on: bool) -> None:
        self.session.set_embed_data(on)

    @Slot(str)
    def _on_autosave_failed(self, reason: str) -> None:
        self.statusBar().showMessage(f"Autosave failed: {reason}", 10_000)

    # -- recovery after a crash --------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        if not self._recovery_offered:
            self._recovery_offered = True
            # once the window is up and the last project open: the question
            # comes over the window it concerns
            QTimer.singleShot(0, self.offer_recovery)

    @Slot()
    def offer_recovery(self) -> bool:
        """Offer the work an earlier session left unsaved (it crashed or was
        killed): Open restores it as unsaved changes to its own file, Discard
        deletes it, Cancel keeps it for the next start. True if restored."""
        if self.engine.busy:
            return False
        for recovery in pending_recoveries():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(recovery.saved))
            answer = QMessageBox.question(
                self,
                "Recover unsaved work",
                "Neural Playground did not close properly. Unsaved work on "
                f"{recovery.title} was kept ({when}).\n\n"
                "Open restores it as unsaved changes; Discard deletes it; Cancel "
                "keeps it for the next start.",
                QMessageBox.Open | QMessageBox.Discard | QMessageBox.Cancel,
                QMessageBox.Open,
            )
            if answer == QMessageBox.Discard:
                recovery.discard()
            elif answer == QMessageBox.Open:
                return self._restore(recovery)
        return False

    def _restore(self, recovery) -> bool:
        if not self._confirm_discard():
            return False
        try:
            self.session.open_recovered(recovery.path, recovery.original or None)
        except ProjectError as exc:
            self.show_message(f"Could not restore the unsaved work: {exc}")
            return False
        self.autosaver.adopt(recovery)
        self._opened()
        self.statusBar().showMessage(
            f"Restored unsaved work on {recovery.title}: save it to keep it", 10_000
        )
        return True

    # -- view state kept in the project ------------------------------------------
    def view_state(self) -> dict:
        """How the project is shown: tab, curve options, the chosen run."""
        c = self.curves_tab
        index = c.run_choice.currentIndex()
        view = {
            "tab": self.tabs.tabText(self.tabs.currentIndex()),
            "builder_side": self.builder_tab.side.currentIndex(),
            "curves": {
                "x_axis": c.x_axis.currentData(),
                "smoothing": c.smoothing.value() / 100,
                "log_scale": c.log_scale.isChecked(),
                "gradients": c.gradients_button.isChecked(),
                "page": CURVE_PAGES[c.pages.currentIndex()],
                "run": c.run_choice.itemText(index) if index > 0 else "",
            },
        }
        net = self.builder_tab.view
        if hasattr(net, "show_test") and hasattr(net, "discretize"):
            view["network"] = {
                "show_test": net.show_test.isChecked(),
                "discretize": net.discretize.isChecked(),
            }
        return view

    def apply_view(self, view) -> None:
        """Show the project as `view` says; what is unknown or wrong is left
        as it is (a file from another version must still open)."""
        if not isinstance(view, dict):
            return
        titles = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        if view.get("tab") in titles:
            self.tabs.setCurrentIndex(titles.index(view["tab"]))
        side = view.get("builder_side")
        if isinstance(side, int) and 0 <= side < self.builder_tab.side.count():
            self.builder_tab.side.setCurrentIndex(side)
        c = self.curves_tab
        curves = view.get("curves")
        if isinstance(curves, dict):
            axis = c.x_axis.findData(curves.get("x_axis"))
            if axis >= 0:
                c.x_axis.setCurrentIndex(axis)
            smoothing = curves.get("smoothing")
            if isinstance(smoothing, (int, float)) and 0 <= smoothing < 1:
                c.smoothing.setValue(round(smoothing * 100))
            boxes = (("log_scale", c.log_scale), ("gradients", c.gradients_button))
            for key, box in boxes:
                if isinstance(curves.get(key), bool):
                    box.setChecked(curves[key])
            if curves.get("page") in CURVE_PAGES:
                c.show_page(curves["page"])
            run = curves.get("run")
            index = c.run_choice.findText(run) if isinstance(run, str) and run else -1
            if index > 0:
                c.run_choice.setCurrentIndex(index)
        net = view.get("network")
        if isinstance(net, dict):
            for key in ("show_test", "discretize"):
                box = getattr(self.builder_tab.view, key, None)
                if box is not None and isinstance(net.get(key), bool):
                    box.setChecked(net[key])

    @Slot()
    def save_project(self) -> bool:
        if self.session.path is None:
            return self.save_project_as()
        return self._save_to(self.session.path)

    @Slot()
    def save_project_as(self) -> bool:
        path, _ = QFileDialog.getSaveFileName(self, "Save project", "untitled.npg", PROJECT_FILTER)
        return bool(path) and self._save_to(path)

    def _save_to(self, path) -> bool:
        try:
            saved = self.session.save(path)
        except (OSError, ValueError) as exc:
            self.show_message(f"Could not save the project: {exc}")
            return False
        preferences.add_recent_file(str(saved))
        self.statusBar().showMessage(f"Saved {saved}", 5_000)
        return True

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        files = preferences.recent_files()
        for path in files:
            action = self.recent_menu.addAction(os.path.basename(path))
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", preferences.clear_recent_files)
        else:
            self.recent_menu.addAction("No recent projects").setEnabled(False)

    @Slot()
    def _open_recent(self):
        path = self.sender().data()
        if self.engine.busy or not self._confirm_discard():
            return
        self.open_project(path)

    @Slot()
    def import_spec_dialog(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import network", "", SPEC_FILTER)
        if path:
            self.import_spec(path)

    def import_spec(self, path) -> bool:
        try:
            spec = load_spec(path)
        except (SpecError, OSError) as exc:
            self.show_message(f"Could not import the network: {exc}")
            return False
        self.session.set_spec(spec)
        return True

    @Slot()
    def export_spec_dialog(self):
        path, _ = QFileDialog.getSaveFileName(self, "Export network", "network.json", SPEC_FILTER)
        if path:
            try:
                save_spec(self.session.spec, path)
            except OSError as exc:
                self.show_message(f"Could not export the network: {exc}")

    # -- about and closing ----------------------------------------------------------
    def about_text(self) -> str:
        import numpy
        import pyqtgraph
        import PySide6
        from PySide6.QtCore import qVersion

        torch_version = self.torch_info.get("torch") or sys.modules.get("torch") and sys.modules["torch"].__version__
        device = self.torch_info.get("device", "PyTorch still loading")
        return (
            f"<h3>Neural Playground {__version__}</h3>"
            "<p>Build, train, look inside and export neural networks.</p>"
            f"<p>Python {platform.python_version()}<br>"
            f"PyTorch {torch_version or 'loading'}<br>"
            f"Qt {qVersion()} (PySide6 {PySide6.__version__})<br>"
            f"pyqtgraph {pyqtgraph.__version__}<br>numpy {numpy.__version__}<br>"
            f"Device: {device}</p>"
        )

    @Slot()
    def show_about(self):
        QMessageBox.about(self, "About Neural Playground", self.about_text())

    def closeEvent(self, event):
        # Stop first: the run it ends joins the project, so the question
        # below covers it and a Save keeps it.
        if not self.engine.shutdown():
            self.show_message(
                "Training did not stop within 30 seconds; the window stays open. "
                "Try closing it again in a moment."
            )
            event.ignore()
            return
        if not self._confirm_discard():
            event.ignore()
            return
        # saved or discarded: no recovery file is wanted any more
        self.autosaver.shutdown()
        self.filter_tab.shutdown()  # its background jobs end with the window
        from playground.gui.export_dialog import wait_for_background_jobs

        wait_for_background_jobs()  # an export cancelled just before closing
        self.save_layout()
        event.accept()

    # -- layout kept between sessions -------------------------------------------------
    def save_layout(self) -> None:
        prefs = preferences.preferences()
        prefs.setValue("window/geometry", self.saveGeometry())
        prefs.setValue("window/state", self.saveState())
        prefs.setValue("window/tab", self.tabs.currentIndex())
        prefs.setValue("builder/splitter", self.builder_tab.splitter.saveState())
        prefs.setValue("builder/side", self.builder_tab.side.currentIndex())
        prefs.setValue("last_project", str(self.session.path) if self.session.path else "")
        prefs.sync()

    def restore_layout(self) -> None:
        """Where the user left things: size, tabs, panel widths."""
        prefs = preferences.preferences()
        geometry = prefs.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = prefs.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = prefs.value("builder/splitter")
        if splitter is not None:
            self.builder_tab.splitter.restoreState(splitter)
        for key, tabs in (("window/tab", self.tabs), ("builder/side", self.builder_tab.side)):
            try:
                index = int(prefs.value(key, 0))
            except (TypeError, ValueError):
                index = 0
            if 0 <= index < tabs.count():
                tabs.setCurrentIndex(index)

    def last_project(self) -> str | None:
        """The project open when the app was last closed, if it still exists."""
        path = preferences.preferences().value("last_project", "")
        return path if isinstance(path, str) and path and os.path.isfile(path) else None
