"""The live views stay cheap: coalesced label updates, stepped plot ranges."""

from types import SimpleNamespace as NS

import pytest
from PySide6.QtCore import QObject

from playground.gui.widgets.live_curves import LiveCurvesWidget, nice_ceiling
from playground.gui.widgets.throttle import LatestOnly


def test_latest_only_applies_just_the_newest_call(qtbot):
    parent = QObject()
    seen = []
    throttled = LatestOnly(seen.append, 50, parent)
    for i in range(100):
        throttled(i)
    assert seen == []
    qtbot.waitUntil(lambda: seen == [99], timeout=2_000)
    throttled(100)
    throttled.flush()  # e.g. when a run ends: no waiting
    assert seen == [99, 100]
    throttled(101)
    throttled.cancel()
    qtbot.wait(100)
    assert seen == [99, 100]


@pytest.mark.parametrize(
    "value, ceiling",
    [(0, 1.0), (0.7, 1.0), (1.0, 1.0), (1.01, 2.0), (3, 5.0), (7, 10.0), (140, 200.0), (0.003, 0.005)],
)
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == pytest.approx(ceiling)


def epochs(first, last):
    return [NS(epoch=e, train_loss=2.0 / e, val_loss=2.2 / e, train_accuracy=0.5, val_accuracy=0.6, best_epoch=e)
            for e in range(first, last + 1)]


def test_plots_follow_the_data_in_steps_until_the_user_zooms(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.add_epochs(epochs(1, 3))
    w.flush()
    assert w.drawn_count("val_loss") == 3
    (x0, x1), (y0, y1) = w.loss_plot.viewRange()
    assert x1 >= 5 * 0.99 and y1 >= 5 * 0.99 * 0.5  # 3 epochs -> x to 5; loss 2.2 -> y to 5
    w.add_epochs(epochs(4, 4))
    w.flush()
    assert w.loss_plot.viewRange()[0] == [x0, x1], "the range must not move while the data fits"
    w.add_epochs(epochs(5, 12))
    w.flush()
    assert w.loss_plot.viewRange()[0][1] > x1
    # a hand zoom wins over following
    w.loss_plot.getViewBox().sigRangeChangedManually.emit([True, True])
    zoomed = w.loss_plot.viewRange()
    w.add_epochs(epochs(13, 40))
    w.flush()
    assert w.loss_plot.viewRange() == zoomed
    w.clear()
    w.add_epochs(epochs(1, 40))
    w.flush()
    assert w.loss_plot.viewRange()[0][1] >= 50 * 0.99


def test_hidden_curves_draw_when_shown(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.add_epochs(epochs(1, 5))
    w.flush()
    assert w.point_count("val_loss") == 5 and w.drawn_count("val_loss") == 0
    w.show()
    qtbot.waitExposed(w)
    assert w.drawn_count("val_loss") == 5


def test_one_early_spike_does_not_flatten_the_loss_plot(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    first = [NS(epoch=1, train_loss=1e6, val_loss=1e6, train_accuracy=None, val_accuracy=None, best_epoch=1)]
    w.add_epochs(first)
    w.flush()
    assert w.loss_plot.viewRange()[1][1] >= 1e6
    later = [NS(epoch=e, train_loss=0.01, val_loss=0.012, train_accuracy=None, val_accuracy=None, best_epoch=e)
             for e in range(2, 60)]
    w.add_epochs(later)
    w.flush()
    assert 0.012 <= w.loss_plot.viewRange()[1][1] <= 0.05
    # a fresh rise in the newest points is always in view
    w.add_epochs([NS(epoch=60, train_loss=3.0, val_loss=3.0, train_accuracy=None, val_accuracy=None, best_epoch=1)])
    w.flush()
    assert w.loss_plot.viewRange()[1][1] >= 3.0
