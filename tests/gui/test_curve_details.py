"""Details of the training plots: the per-step accuracy curve, wall-time tick
labels that do not run together, and best / early-stop labels the legend
does not cover."""

import itertools
from types import SimpleNamespace as NS

import pytest
from PySide6.QtGui import QImage, QPainter

from playground.gui.widgets.gradient_plots import GradientPlotsWidget
from playground.gui.widgets.live_curves import LiveCurvesWidget
from playground.gui.widgets.run_axis import _CLOCK_STEPS, minor_step


def epochs(n, scale=1.0):
    return [NS(epoch=e, step=10 * e, wall_time=e / 100, train_loss=scale / e,
               val_loss=1.1 * scale / e, train_accuracy=0.5 + e / 100,
               val_accuracy=0.4 + e / 100, best_epoch=e)
            for e in range(1, n + 1)]


def steps(n, accuracy=True):
    return [NS(step=s, epoch=s / 10, wall_time=s / 1000, loss=2 / (1 + s / 10),
               accuracy=0.5 + s / (4 * n) if accuracy else None, learning_rate=0.03)
            for s in range(1, n + 1)]


def shown(qtbot, widget, width, height):
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_per_step_accuracy_is_drawn_faint_like_the_per_step_loss(qtbot):
    w = shown(qtbot, LiveCurvesWidget(), 900, 600)
    w.add_steps(steps(40))
    w.add_epochs(epochs(4))
    w.flush()
    assert w.drawn_count("step_acc") == w.drawn_count("step_loss") == 40
    loss_pen = w.curves["step_loss"].opts["pen"]
    acc_pen = w.curves["step_acc"].opts["pen"]
    assert acc_pen.color().getRgb() == loss_pen.color().getRgb()
    assert acc_pen.color().alpha() < 255 and acc_pen.widthF() == loss_pen.widthF()
    assert w.curves["step_acc"].zValue() < w.curves["val_acc"].zValue()  # beneath
    assert "per step" in w.legend_names("accuracy")
    w.show_crosshair(w.acc_plot, 2.0)
    assert "step 62.5%" in w.readout_text("accuracy")  # step 20


def test_a_regression_has_no_per_step_accuracy(qtbot):
    w = shown(qtbot, LiveCurvesWidget(), 900, 600)
    w.add_steps(steps(40, accuracy=False))
    w.flush()
    assert w.point_count("step_acc") == 0 and w.drawn_count("step_loss") == 40


@pytest.mark.parametrize("major", _CLOCK_STEPS[1:])
def test_minor_clock_ticks_divide_the_major_ones(major):
    minor = minor_step(major)
    assert minor < major
    assert major / minor == pytest.approx(round(major / minor))


def tick_texts(axis):
    image = QImage(400, 100, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return texts


@pytest.mark.parametrize("seconds", [0.085, 1.3, 95.0, 5000.0])
def test_wall_time_labels_in_a_half_width_plot_do_not_run_together(qtbot, seconds):
    g = shown(qtbot, GradientPlotsWidget(), 1000, 250)  # two plots of ~500
    g.start(10)
    g.set_axis("time")
    g.add_steps([NS(step=s, epoch=s / 10, wall_time=seconds * s / 100, learning_rate=0.03)
                 for s in range(1, 101)])
    g.set_streaming(False)
    g.flush()
    texts = tick_texts(g.lr_plot.getAxis("bottom"))
    assert len(texts) >= 2, [t for _, _, t in texts]
    rects = sorted((rect for rect, _, _ in texts), key=lambda r: r.left())
    for a, b in itertools.pairwise(rects):
        assert a.right() + 4 <= b.left(), [t for _, _, t in texts]
    # other axes keep pyqtgraph's labels of finer ticks where they fit
    g.set_axis("step")
    assert g.lr_plot.getAxis("bottom").style["maxTextLevel"] == 2


def uncovered(w):
    """Each mark's label clear of its plot's legend and of the other label."""
    for plot in w._plots():
        legend = w._legends[plot].sceneBoundingRect()
        labels = [lines[i].label.sceneBoundingRect()
                  for lines in w._marks.values() if lines
                  for i, p in enumerate(w._plots()) if p is plot]
        view = plot.getViewBox().sceneBoundingRect()
        for rect in labels:
            assert not rect.intersects(legend), (rect, legend)
            assert view.contains(rect)
        if len(labels) == 2:
            assert not labels[0].intersects(labels[1])


@pytest.mark.parametrize("height, runs", [(300, 1), (420, 3), (700, 1)])
def test_the_legend_never_covers_the_best_and_early_stop_labels(qtbot, height, runs):
    w = shown(qtbot, LiveCurvesWidget(), 900, height)
    for r in range(runs):
        w.add_run(f"k{r}", f"run-{r}")
        w.add_steps(steps(400), f"k{r}")
        w.add_epochs(epochs(40, scale=r + 1), f"k{r}")
    w.set_focus("k0")
    w.set_streaming(False)
    w.flush()
    w.mark_best(40)  # at the right edge, where the legend is
    w.mark_early_stop(40)
    w.flush()
    uncovered(w)
    w.resize(900, height + 150)  # a resized plot moves its labels again
    qtbot.wait(20)
    uncovered(w)
