"""`playground --self-test`: the whole path in one go, for packaged builds.

Opens the window (offscreen unless a platform is set), visits every tab,
trains a tiny model through the engine and checks that the curves moved.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

TIMEOUT_S = 120


def run_self_test() -> int:
    if os.environ.get("PLAYGROUND_CONFIG_DIR"):
        return _self_test()
    # The user's recent files and settings stay untouched, and nothing is left behind.
    with tempfile.TemporaryDirectory(prefix="playground-selftest-") as config:
        os.environ["PLAYGROUND_CONFIG_DIR"] = config
        try:
            return _self_test()
        finally:
            del os.environ["PLAYGROUND_CONFIG_DIR"]


def _self_test() -> int:
    from PySide6.QtCore import QEventLoop, QTimer

    from playground.core.events import Finished
    from playground.gui.app import make_app
    from playground.gui.main_window import MainWindow

    def say(text):
        print(f"self-test: {text}", flush=True)

    app = make_app()
    window = MainWindow()
    window.show()
    app.processEvents()
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        app.processEvents()
        if window.tabs.currentWidget().grab().isNull():
            say(f"tab {window.tabs.tabText(i)!r} did not render")
            return 1
        say(f"tab {window.tabs.tabText(i)!r} ok")

    session = window.session
    session.set_settings(session.settings.replace(epochs=3, device="cpu"))
    ended = []
    loop = QEventLoop()
    window.engine.run_ended.connect(ended.append)
    window.engine.run_ended.connect(loop.quit)
    QTimer.singleShot(TIMEOUT_S * 1000, loop.quit)
    t0 = time.perf_counter()
    window.train()
    if window.engine.busy:
        loop.exec()
    ok = bool(ended) and isinstance(ended[0], Finished)
    points = window.curves_tab.curves.drawn_count("val_loss")
    if not ok:
        reason = getattr(ended[0], "message", ended[0]) if ended else "timed out"
        say(f"training failed: {reason}")
    elif points < 3:
        say(f"curves show {points} epochs, expected 3")
        ok = False
    else:
        summary = ended[0].summary
        say(
            f"trained {summary.epochs_completed} epochs ({summary.steps} steps) in "
            f"{time.perf_counter() - t0:.1f} s; final {summary.final_metrics()}"
        )
    session.mark_clean()
    window.close()
    app.processEvents()
    say("passed" if ok else "FAILED")
    sys.stdout.flush()
    return 0 if ok else 1
