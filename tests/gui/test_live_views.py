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


def steps(first, last, per_epoch=1000):
    return [NS(step=s, epoch=s / per_epoch, loss=1.0 / (1 + s / 1e4), wall_time=s * 0.002)
            for s in range(first, last + 1)]


def test_a_200k_step_run_draws_a_bounded_number_of_points(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    for start in range(1, 200_001, 2_000):  # as the engine's batches arrive
        w.add_steps(steps(start, start + 1_999))
        if start % 20_000 == 1:
            w.flush()
    w.flush()
    assert w.point_count("step_loss") == 200_000
    assert w.drawn_count("step_loss") == 200_000  # handed over once, not copied
    width = w.loss_plot.getViewBox().width()
    # clipped to the view and peak-downsampled: about two points per pixel
    assert 0 < w.displayed_count("step_loss") <= 3 * width
    for axis in ("step", "time"):
        w.set_axis(axis)
        assert 0 < w.displayed_count("step_loss") <= 3 * width
    # zoomed into the last 1% of the run, the points there are drawn in full
    w.set_axis("step")
    w.loss_plot.setXRange(198_000, 200_000, padding=0)
    w.loss_plot.getViewBox().sigRangeChangedManually.emit([True, False])
    qtbot.waitUntil(lambda: 0 < w.displayed_count("step_loss") <= 2_100, timeout=2_000)


def run_epochs(n, scale, step_every=10):
    return [NS(epoch=e, step=e * step_every, wall_time=e * 0.5, train_loss=scale / e,
               val_loss=1.2 * scale / e, train_accuracy=0.5, val_accuracy=0.6 + e / 100,
               best_epoch=e) for e in range(1, n + 1)]


def test_runs_overlay_in_their_colours_with_a_legend(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.add_run("a", "lr-0.01", (0, 114, 178))
    w.add_run("b", "lr-0.1", (213, 94, 0))
    w.add_epochs(run_epochs(10, 1.0), key="a")
    w.add_epochs(run_epochs(5, 2.0), key="b")
    w.flush()
    assert w.legend_names("loss") == ["validation", "train", "lr-0.01", "lr-0.1"]
    assert w.legend_names("accuracy") == ["validation", "train", "lr-0.01", "lr-0.1"]
    item_b = w._items["b"]["val_loss"]
    assert item_b.opts["pen"].color().getRgb()[:3] == (213, 94, 0)
    assert len(item_b.xData) == 5 and len(w._items["a"]["val_loss"].xData) == 10
    w.set_run_style("b", visible=False)
    assert not item_b.isVisible() and w.legend_names() == ["validation", "train", "lr-0.01"]
    w.set_run_style("a", name="slow", color=(0, 0, 0))
    assert w.legend_names()[-1] == "slow"
    w.remove_run("a")
    assert set(w.runs) == {"b"} and w.legend_names() == []


def test_the_x_axis_switches_between_step_epoch_and_wall_time(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.add_epochs(run_epochs(4, 1.0))
    w.flush()
    w.mark_best(2)
    curve = w.curves["val_loss"]
    assert curve.xData.tolist() == [1, 2, 3, 4] and w._best_lines[0].value() == 2
    w.set_axis("step")
    assert curve.xData.tolist() == [10, 20, 30, 40] and w._best_lines[0].value() == 20
    assert w.loss_plot.getAxis("bottom").labelText == "step"
    w.set_axis("time")
    assert curve.xData.tolist() == [0.5, 1.0, 1.5, 2.0] and w._best_lines[0].value() == 1.0
    assert w.loss_plot.getAxis("bottom").tickStrings([60, 90, 3725], 1, 30) == [
        "1:00", "1:30", "1:02:05"]
    with pytest.raises(ValueError, match="x axis"):
        w.set_axis("minutes")


def test_a_run_without_steps_or_times_is_left_out_of_those_axes(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    old = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e} for e in (1, 2, 3)]
    w.set_history("old", old)
    w.flush()
    assert w.drawn_count("val_loss") == 3
    w.set_axis("step")  # saved before steps were kept: no made-up places
    assert w.drawn_count("val_loss") == 0 and w.point_count("val_loss") == 3


def test_the_crosshair_gives_every_shown_runs_value_at_the_mouse(qtbot):
    from PySide6.QtCore import QPoint, QPointF

    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    w.add_run("a", "lr-0.01")
    w.add_run("b", "lr-0.1")
    w.add_epochs(run_epochs(10, 1.0), key="a")
    w.add_epochs(run_epochs(5, 2.0), key="b")
    w.flush()
    qtbot.wait(50)  # the axes settle their widths, which moves the view box
    plot = w.loss_plot
    scene = plot.getViewBox().mapViewToScene(QPointF(4, 0.5))
    qtbot.mouseMove(plot.viewport(), plot.mapFromScene(scene))
    qtbot.waitUntil(lambda: w.readout_text() != "", timeout=2_000)
    assert w.crosshair.lines[plot].isVisible() and w.crosshair.lines[w.acc_plot].isVisible()
    assert w.crosshair.lines[plot].value() == pytest.approx(4, abs=0.1)
    text = w.readout_text()
    assert "epoch 4" in text
    assert "lr-0.01  val 0.3  train 0.25" in text  # 1.2 / 4 and 1 / 4
    assert "lr-0.1  val 0.6  train 0.5" in text
    # past the end of the shorter run, only the longer one has a value
    w.show_crosshair(plot, 9)
    assert "lr-0.1" not in w.readout_text() and "lr-0.01" in w.readout_text()
    qtbot.mouseMove(w, QPoint(2, 2))
    w.hide_crosshair()
    assert w.readout_text() == "" and not w.crosshair.lines[plot].isVisible()
