"""Garbage is collected on the GUI thread only (playground.gui.gc_guard)."""

import gc
import threading

from PySide6.QtCore import QObject

from playground.gui.gc_guard import MainThreadCollector


class _Cycle:
    def __init__(self):
        self.me = self
        self.qt = QObject()  # a Qt object kept alive only by the cycle


def test_a_worker_thread_never_collects_and_the_timer_does(qtbot):
    enabled_before = gc.isenabled()
    collector = MainThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        before = gc.get_count()[0]

        def make_garbage():
            for _ in range(5000):
                _Cycle()  # cycles a worker-thread collection would destroy there

        worker = threading.Thread(target=make_garbage)
        worker.start()
        worker.join()
        assert gc.get_count()[0] > before  # nothing collected on the worker
        qtbot.waitUntil(lambda: gc.get_count()[0] < 700, timeout=2000)
    finally:
        collector.stop()
    assert gc.isenabled() == enabled_before  # given back as it was
