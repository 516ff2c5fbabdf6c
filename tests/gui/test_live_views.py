"""The live views stay cheap: coalesced label updates, stepped plot ranges,
few points handed to the plots however long the run."""

import csv
import io
from types import SimpleNamespace as NS

import numpy as np
import pytest
from PySide6.QtCore import QObject

from playground.gui.widgets.live_curves import LiveCurvesWidget, nice_ceiling
from playground.gui.widgets.run_tracks import MAX_DRAWN, Decimator, thinned
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


def test_a_200k_step_run_hands_the_plot_a_bounded_number_of_points(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    handed = []
    curve = w.curves  # made with the run
    for start in range(1, 200_001, 2_000):  # as the engine's batches arrive
        batch = steps(start, start + 1_999)
        if start == 120_001:
            batch[7].loss = 9.0  # one spike, and one dip, must stay in sight
            batch[8].loss = -1.0
        w.add_steps(batch)
        if start % 20_000 == 1:
            w.flush()
            handed.append(w.drawn_count("step_loss"))
    w.flush()
    curve = w.curves["step_loss"]
    assert w.point_count("step_loss") == 200_000
    assert all(n <= MAX_DRAWN for n in handed)
    assert MAX_DRAWN // 2 <= w.drawn_count("step_loss") <= MAX_DRAWN
    assert w.displayed_count("step_loss") == w.drawn_count("step_loss")  # no more
    assert curve.yData.max() == 9.0 and curve.yData.min() == -1.0
    assert np.all(np.diff(curve.xData) >= 0)
    for axis in ("step", "time"):
        w.set_axis(axis)
        assert curve.yData.max() == 9.0 and w.drawn_count("step_loss") <= MAX_DRAWN
    # zoomed into the last 1%: the points there, and those a view either side
    w.set_axis("step")
    w.loss_plot.setXRange(198_000, 200_000, padding=0)
    w.loss_plot.getViewBox().sigRangeChangedManually.emit([True, False])
    qtbot.waitUntil(lambda: curve.xData[0] >= 195_000, timeout=2_000)
    assert w.drawn_count("step_loss") <= MAX_DRAWN
    # further in, every point is drawn
    w.loss_plot.setXRange(199_900, 199_950, padding=0)
    w.loss_plot.getViewBox().sigRangeChangedManually.emit([True, False])
    qtbot.waitUntil(lambda: curve.xData[0] >= 199_000, timeout=2_000)
    assert curve.xData.tolist() == list(range(199_849, 200_001))
    # following the data again, the whole run
    w.set_axis("epoch")
    assert curve.xData[0] < 1 and curve.xData[-1] == 200


def test_display_decimation_keeps_each_buckets_lowest_and_highest():
    rng = np.random.default_rng(1)
    y = rng.normal(size=50_000)
    y[12_345], y[40_000] = 30.0, -30.0
    assert Decimator().indices(y[:MAX_DRAWN]) is None  # short: every point
    live = Decimator()
    for n in range(MAX_DRAWN + 1, len(y) + 1, 997):  # a run as it streams in
        idx = live.indices(y[:n])
        assert len(idx) <= MAX_DRAWN and np.all(np.diff(idx) >= 0)
        assert y[idx].max() == y[:n].max() and y[idx].min() == y[:n].min()
        # each bucket drawn by its two extremes
        size = live.size
        full = n // size
        lows = y[: full * size].reshape(full, size).min(axis=1)
        assert np.array_equal(np.minimum(y[idx[0 : 2 * full : 2]], y[idx[1 : 2 * full : 2]]), lows)
    # only the new points were looked at, yet the picks are those of one pass
    np.testing.assert_array_equal(live.indices(y[:n]), Decimator().indices(y[:n]))
    x = np.arange(len(y), dtype=float)
    xs, ys = thinned(x, y)
    assert len(xs) <= MAX_DRAWN and set(ys) >= {30.0, -30.0}


def test_a_long_run_keeps_every_point_for_the_crosshair_and_csv(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    rng = np.random.default_rng(2)
    noise = rng.random(3_000)
    w.add_epochs([NS(epoch=e, step=10 * e, wall_time=e / 100, train_loss=noise[e - 1],
                     val_loss=1.0 / e, train_accuracy=0.5, val_accuracy=0.6)
                  for e in range(1, 3_001)])
    w.flush()
    assert w.drawn_count("train_loss") <= MAX_DRAWN
    # the value under the crosshair is the epoch's own, not a drawn neighbour's
    rows = w.values_at(w.loss_plot, 1234)
    train = next(v for v in rows[0][2] if v[0] == "train")
    assert train[2] == 1234 and train[1] == noise[1233]
    rows = list(csv.DictReader(io.StringIO(w.to_csv())))
    assert len([r for r in rows if r["series"] == "loss: train"]) == 3_000
    # smoothing picks the drawn points of the smoothed curve
    w.set_smoothing(0.9)
    curve = w.curves["train_loss"]
    smoothed = w.runs[w.focus_key].shown_y("train_loss")
    assert curve.yData.max() == smoothed.max() and curve.yData.min() == smoothed.min()
    assert curve.yData.max() < noise.max()


def test_a_redraw_hands_over_only_the_curves_with_new_points(qtbot, monkeypatch):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.add_run("old", "old run")
    w.add_run("live", "live run")
    w.add_epochs(run_epochs(50, 1.0), key="old")
    w.add_epochs(run_epochs(50, 1.0), key="live")
    w.flush()
    handed = []
    for key in ("old", "live"):
        for series, item in w._items[key].items():
            monkeypatch.setattr(item, "setData",
                                lambda *a, k=key, s=series: handed.append((k, s)))
    w.add_steps(steps(1, 4), key="live")
    w.flush()
    assert handed == [("live", "step_loss")]
    w.set_focus("old")  # markers move to the focused run; no points change
    w.flush()
    assert handed == [("live", "step_loss")]


def test_the_legend_is_kept_between_runs_and_edited_in_place(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.prepare_run()  # between runs: the first run's entries, hidden
    legend = w._legends[w.loss_plot]
    labels = [label for _, label in legend.items]
    assert w.legend_names() == [] and not legend.isVisible()
    w.add_run("a", "Current run")
    w.add_epochs(run_epochs(3, 1.0), key="a")
    w.add_steps(steps(1, 30), key="a")
    w.flush()
    assert w.legend_names() == ["validation", "train", "per step"] and legend.isVisible()
    assert [label for _, label in legend.items] == labels  # the same entries
    w.set_run_style("a", name="run-1")  # the run joined the project
    assert w.legend_names() == ["validation", "train", "per step", "run-1"]
    assert [label for _, label in legend.items][:3] == labels
    w.remove_run("a")
    assert w.legend_names() == []
    w.add_run("b", "Current run")
    w.add_steps(steps(1, 30), key="b")
    w.add_epochs(run_epochs(3, 1.0), key="b")
    w.flush()
    assert w.legend_names() == ["validation", "train", "per step"]
    assert [label for _, label in legend.items] == labels


def test_hidden_marks_and_crosshair_are_out_of_the_plots(qtbot):
    w = LiveCurvesWidget()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.add_epochs(run_epochs(10, 1.0))
    w.flush()
    in_plot = set(w.loss_plot.getPlotItem().items)
    # every item in a plot hears of each move of the view, shown or not
    w.mark_best(4)
    (line, _) = w._best_lines
    assert line in w.loss_plot.getPlotItem().items and line.value() == 4
    w.mark_best(0)
    assert line.scene() is None and not line.isVisible()
    w.show_crosshair(w.loss_plot, 3)
    assert w.crosshair.lines[w.loss_plot].scene() is not None
    assert "train 0.333" in w.readout_text()
    w.hide_crosshair()
    assert w.readout_text() == "" and w.crosshair.lines[w.loss_plot].scene() is None
    assert set(w.loss_plot.getPlotItem().items) == in_plot


def test_gradient_plots_hand_over_few_points_and_step_their_ranges(qtbot):
    from playground.gui.widgets.gradient_plots import GradientPlotsWidget

    g = GradientPlotsWidget()
    qtbot.addWidget(g)
    g.resize(900, 300)
    g.start(steps_per_epoch=10)
    g.add_steps([NS(step=s, epoch=s / 10, wall_time=s / 100, learning_rate=0.1 / (1 + s))
                 for s in range(1, 6_001)])
    g.add_norms([NS(step=s, norms={"0 Linear": 1e-3 * s, "2 Linear": 2.0})
                 for s in range(1, 6_001)])
    assert not g.norm_curves  # no curve (nor legend entry) while hidden
    g.show()
    qtbot.waitExposed(g)
    assert len(g.lr_curve.xData) <= MAX_DRAWN and g.lr_curve.yData.max() == 0.05
    assert sorted(g.norm_curves) == ["0 Linear", "2 Linear"]
    assert len(g.norm_curves["0 Linear"].xData) <= MAX_DRAWN
    # 600 epochs: the range steps ahead to 1000
    assert g.lr_plot.viewRange()[0][1] == pytest.approx(1000, rel=0.03)
    (_, _), (y0, y1) = g.norm_plot.viewRange()  # decades: 1e-3 to 10
    assert y0 == pytest.approx(-3, abs=0.2) and y1 == pytest.approx(1, abs=0.2)
    g.set_streaming(False)  # the run ended: the range fits it
    g.flush()
    assert g.lr_plot.viewRange()[0][1] == pytest.approx(600, rel=0.03)


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
