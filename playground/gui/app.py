"""Start the application: the window first, torch in the background."""

from __future__ import annotations

import gc
import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from playground import __version__


class _FirstPaint(QObject):
    """Notes when the window first paints, then starts the background work."""

    def __init__(self, window, t0: float, on_painted):
        super().__init__(window)
        self.t0 = t0
        self.seconds = None
        self.torch_loaded_before = None
        self._on_painted = on_painted
        window.installEventFilter(self)

    def eventFilter(self, obj, event):
        if self.seconds is None and event.type() == QEvent.Paint:
            self.seconds = time.perf_counter() - self.t0
            self.torch_loaded_before = "torch" in sys.modules
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self._on_painted)
        return False


# How long the training thread may keep Python's lock while the window's
# thread waits for it. Every Qt and large numpy call the window makes lets go of
# the lock; with the default 5 ms, each could wait that long behind the lean
# numpy trainer (which never lets go by itself), and a redraw making dozens of
# such calls stalled 100-300 ms. 0.2 ms kept training speed and cut the stalls
# (docs/benchmarks.md).
SWITCH_INTERVAL_S = 0.0002


def make_app(argv=None) -> QApplication:
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("Neural Playground")
    app.setOrganizationName("Neural Playground")
    app.setApplicationVersion(__version__)
    import pyqtgraph as pg

    pg.setConfigOptions(antialias=True)
    from playground.gui.gc_guard import collect_on_main_thread

    collect_on_main_thread(app)
    return app


def run_gui(project=None, t0: float | None = None) -> int:
    t0 = t0 if t0 is not None else time.perf_counter()
    app = make_app()
    from playground.gui.main_window import MainWindow

    window = MainWindow()
    window.restore_layout()
    project = project or window.last_project()
    if project:
        window.open_project(project)
    report = os.environ.get("PLAYGROUND_REPORT_STARTUP")

    def after_first_paint():
        if report:
            print(
                f"first-paint-seconds {probe.seconds:.3f} "
                f"torch-imported-before-paint {probe.torch_loaded_before}",
                file=sys.stderr,
                flush=True,
            )
            if report == "quit":
                QTimer.singleShot(0, window.close)
                return
        window.torch_loader.start()
        # Full collections of the start-up objects cost 100+ ms pauses while
        # training; freezing them keeps the collector's passes short.
        gc.collect()
        gc.freeze()

    probe = _FirstPaint(window, t0, after_first_paint)
    window.show()
    return app.exec()
