"""A crosshair over the training plots: a vertical line at the mouse on both
plots, a dot on each shown curve there and a label with every shown run's
values at that x.

It moves at most CROSSHAIR_HZ times a second and only moves a line, a few
dots and a label: no curve is handed new data for it, so hovering costs the
training thread next to nothing. Its items are in the plots only while it is
shown: every item in a plot, hidden or not, is told of each move of the view,
and a text item then makes a dozen Qt calls (each lets go of Python's lock).
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

from playground.gui.widgets.run_axis import clock
from playground.gui.widgets.run_tracks import ACC_KEYS, AXIS_LABELS, LOSS_KEYS

CROSSHAIR_HZ = 25
LABELS = {
    "step_loss": "step",
    "train_loss": "train",
    "val_loss": "val",
    "step_acc": "step",
    "train_acc": "train",
    "val_acc": "val",
}


class Crosshair(QObject):
    def __init__(self, curves):
        super().__init__(curves)
        self.curves = curves  # a LiveCurvesWidget
        self.lines = {}  # made when first shown
        self.readouts = {}
        self.dots = {}  # the points whose values the readout gives
        self._in_plots = False
        for plot in (curves.loss_plot, curves.acc_plot):
            plot.scene().sigMouseMoved.connect(lambda pos, p=plot: self.hovered(p, pos))
            plot.on_leave = self.hide
        self._hover = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(1000 // CROSSHAIR_HZ)
        self._timer.timeout.connect(self._show_hover)
        self.x: float | None = None

    def hovered(self, plot, pos) -> None:
        """The mouse moved over a plot (scene position): shown soon."""
        self._hover = (plot, pos)
        if not self._timer.isActive():
            self._timer.start()

    def _show_hover(self) -> None:
        if self._hover is None:
            return
        plot, pos = self._hover
        box = plot.getViewBox()
        if not box.sceneBoundingRect().contains(pos):
            self.hide()
            return
        self.show(plot, box.mapSceneToView(pos).x())

    def _make(self) -> None:
        for plot in (self.curves.loss_plot, self.curves.acc_plot):
            line = pg.InfiniteLine(
                angle=90, movable=False, pen=pg.mkPen((60, 60, 60, 160), width=1)
            )
            line.setZValue(20)
            text = pg.TextItem(
                anchor=(0, 0),
                fill=pg.mkBrush(255, 255, 255, 225),
                border=pg.mkPen((150, 150, 150)),
            )
            text.setZValue(30)
            dots = pg.ScatterPlotItem(size=7, pen=pg.mkPen("w", width=1))
            dots.setZValue(25)
            for item in (line, text, dots):
                item.hide()
            self.lines[plot] = line
            self.readouts[plot] = text
            self.dots[plot] = dots

    def _items(self, plot):
        return (self.lines[plot], self.readouts[plot], self.dots[plot])

    def show(self, plot, x: float) -> None:
        """The line at x on both plots, and this plot's values there."""
        self.x = x
        if not self.lines:
            self._make()
        if not self._in_plots:
            self._in_plots = True
            for each in self.lines:
                for item in self._items(each):
                    each.addItem(item, ignoreBounds=True)
        for line in self.lines.values():
            line.setPos(x)
            line.show()
        for other, text in self.readouts.items():
            if other is not plot:
                text.hide()
                self.dots[other].hide()
        text = self.readouts[plot]
        dots = self.dots[plot]
        rows = self.values_at(plot, x)
        if not rows:
            text.hide()
            dots.hide()
            return
        log = self.curves._log and plot is self.curves.loss_plot
        spots = [
            {"pos": (hx, math.log10(hy) if log else hy), "brush": pg.mkBrush(*c[:3])}
            for _, c, values in rows
            for _, _, hx, hy in values
            if math.isfinite(hy) and not (log and hy <= 0)
        ]
        dots.setData(spots)
        dots.show()
        percent = plot is self.curves.acc_plot
        text.setHtml(readout_html(self.curves.axis, x, rows, percent))
        (x0, x1), (_, y1) = plot.viewRange()
        text.setAnchor((1, 0) if x > (x0 + x1) / 2 else (0, 0))
        text.setPos(x, y1)
        text.show()

    def hide(self) -> None:
        self._hover = None
        self._timer.stop()
        self.x = None
        if not self._in_plots:
            return
        self._in_plots = False
        for plot in self.lines:
            for item in self._items(plot):
                item.hide()
                plot.removeItem(item)

    def text(self, plot) -> str:
        readout = self.readouts.get(plot)
        if readout is None or not self._in_plots or not readout.isVisible():
            return ""
        return readout.textItem.toPlainText()

    def values_at(self, plot, x: float) -> list[tuple]:
        """(run name, colour, [(series label, y, point x, point y), ...]) for
        each shown run with a point near x, in this plot."""
        keys = LOSS_KEYS if plot is self.curves.loss_plot else ACC_KEYS
        rows = []
        for run in self.curves.visible_runs():
            values = []
            for key in reversed(keys):  # validation first
                hit = run.nearest(key, self.curves.axis, x)
                if hit is not None:
                    values.append((LABELS[key], hit[1], *hit))
            if values:
                rows.append((run.name, run.color, values))
        return rows


def readout_html(axis: str, x: float, rows, percent: bool) -> str:
    where = (
        clock(x) if axis == "time" else f"{x:,.0f}" if axis == "step" else f"{x:.2f}"
    )
    lines = [f"<b>{AXIS_LABELS[axis]} {where}</b>"]
    for name, color, values in rows:
        swatch = "#{:02x}{:02x}{:02x}".format(*color[:3])
        cells = "&nbsp;&nbsp;".join(
            f"{label} {_format(v, percent)}" for label, v, *_ in values
        )
        lines.append(
            f"<span style='color:{swatch}'>\u25a0</span> {_escape(name)}&nbsp;&nbsp;{cells}"
        )
    return "<div style='font-size:9pt; color:#202020'>" + "<br>".join(lines) + "</div>"


def _format(value: float, percent: bool) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.1%}" if percent else f"{value:.4g}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
