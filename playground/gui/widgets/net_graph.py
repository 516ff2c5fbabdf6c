"""A small dense network drawn as TensorFlow Playground draws it.

Neurons are squares holding a picture of their output over the input plane
(or one colour, the output for the chosen example, for other data); links are
curves whose width follows |weight| and whose colour its sign; a small square
at each neuron's corner is its bias. On the right, the output over the plane
as a large heatmap with the data points, or bars for other data.

Geometry (rectangles, one path per link, the point layer) is made on resize;
images and pens in ``set_state``, a few times a second at most. The network
itself is drawn into a pixmap at the first paint after a change, so that
hovering, which swaps the large picture for the hovered neuron's, repaints
little. Each link is its own path: one path holding many overlapping thick
curves took Qt twice as long to stroke (18 ms against 8 for 560 links).
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from playground.core.plane_grid import to_pixels, upsample_bilinear
from playground.gui.widgets.net_colors import (
    LUT,
    MIDDLE,
    NEUTRAL_LINK,
    color,
    colorize,
    lut_index,
    rgba_image,
    value_image,
)
from playground.gui.widgets.net_paint import (
    FAINT_TEXT,
    FRAME,
    HIGHLIGHT,
    draw_bars,
    draw_legend,
    show_tooltip,
    small_font,
)
from playground.gui.widgets.throttle import drawing

HEAT_UPSAMPLE = 4  # 50 grid points -> 200 pixels: smooth at any panel size
WIDTH_FULL = 3.0  # |weight| drawn at full width; larger ones saturate
COLOUR_STEPS = 32  # link colours are quantised so that links share pens
LINK_SAMPLES = 12  # points per link kept for finding the link under the mouse
MAX_NODE = 44.0
MAX_HEAT = 440.0  # larger shows nothing more; the network uses the room
HEADER = 42.0  # room for the column titles


class GraphCanvas(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 220)
        self.paint_count = 0
        self.last_paint_ms = 0.0
        self._labels: list[str] = []
        self._layers: list = []
        self._plane = False
        self._half = 6.0
        self._legend = ("-1", "1")
        self._points = None  # (train_xy, train_colour, test_xy, test_colour)
        self._show_test = False
        self._points_pixmap: QPixmap | None = None
        self._network_pixmap: QPixmap | None = None
        self._hover: tuple[int, int] | None = None
        self._hover_image: QImage | None = None
        self._node = 20.0
        self._rects: list[list[QRectF]] = []
        self._column_x: list[float] = []
        self._owners: list[tuple[int, int, int]] = []
        self._paths: list[QPainterPath] = []
        self._samples = np.zeros((0, LINK_SAMPLES, 2))
        self._heat_rect = QRectF()
        self._right_rect = QRectF()
        self._pens: dict[tuple[float, int], QPen] = {}
        self.clear_state()

    # -- what to draw ------------------------------------------------------------------
    def set_network(self, labels, layers, plane: bool, half_width: float, legend):
        self._labels = list(labels)
        self._layers = list(layers)
        self._plane = plane
        self._half = half_width
        self._legend = legend
        self._hover = None
        self._points = None
        self.clear_state()
        self._relayout()

    def set_points(self, train_xy, train_colour, test_xy, test_colour) -> None:
        self._points = (train_xy, train_colour, test_xy, test_colour)
        self._points_pixmap = None
        self.update()

    def set_show_test(self, show: bool) -> None:
        if show != self._show_test:
            self._show_test = show
            self._points_pixmap = None
            self.update()

    def clear_state(self) -> None:
        columns = 1 + len(self._layers)
        self.set_state(
            [None] * columns,
            [None] * columns,
            [None] * len(self._layers),
            [None] * len(self._layers),
            None,
            None,
            "",
        )

    def set_state(self, pictures, node_values, weights, biases, heat, bars, status):
        """pictures: per column (units, n, n) colour values or None; node_values:
        per column (units,) colour values or None; heat: (h, w) colour values of
        the output over the plane; bars: (labels, values, probabilities, true,
        caption)."""
        self._picture_values = list(pictures)
        self._pictures = [None if v is None else _images(v) for v in pictures]
        self._node_colours = [
            None if v is None else [color(x) for x in v] for v in node_values
        ]
        self._weights = list(weights)
        self._biases = list(biases)
        self._heat = None if heat is None else value_image(heat, pale=True)
        self._bars = bars
        self._status = status
        self._hover_image = None
        self._restyle_links()
        self._network_pixmap = None
        self.update()

    def hovered(self) -> tuple[int, int] | None:
        return self._hover

    def shown_points(self) -> tuple[int, int]:
        """(train, test) points drawn on the heatmap."""
        if self._points is None or not self._plane:
            return 0, 0
        test = len(self._points[2]) if self._show_test else 0
        return len(self._points[0]), test

    def node_count(self) -> int:
        return sum(len(column) for column in self._rects)

    def node_rect(self, column: int, unit: int) -> QRectF:
        return QRectF(self._rects[column][unit])

    def picture_values(self, column: int) -> np.ndarray | None:
        return self._picture_values[column]

    def has_heatmap(self) -> bool:
        return self._heat is not None

    # -- layout ------------------------------------------------------------------------
    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._relayout()

    def _relayout(self) -> None:
        w, h = float(self.width()), float(self.height())
        counts = [len(self._labels)] + [layer.units for layer in self._layers]
        if self._plane:
            share = 0.40 if len(counts) <= 5 else 0.32  # deep nets need the width
            side = max(110.0, min(h - 100.0, w * share, MAX_HEAT))
            right = side + 40.0
        else:
            side = 0.0
            right = max(150.0, min(w * 0.34, 240.0))
        self._heat_rect = QRectF(w - right + 30.0, 36.0, side, side)
        self._right_rect = QRectF(w - right, 0.0, right, h)
        label_w = 30.0 if self._plane else 84.0
        left, top = 8.0 + label_w, HEADER + 8.0
        net_w = max(60.0, w - right - left - 18.0)
        net_h = max(40.0, h - top - 24.0)
        cols = len(counts)
        most = max(counts + [1])
        node = min(MAX_NODE, net_h / (most * 1.3))
        if cols > 1:
            node = min(node, net_w / (cols - 1) * 0.45)
        node = max(10.0, node)
        pitch = min(node * 1.75, net_h / most)
        self._node = node
        self._rects = []
        for c, n in enumerate(counts):
            x = left + node / 2 + c * (net_w - node) / max(cols - 1, 1)
            y0 = top + (net_h - (n - 1) * pitch) / 2
            self._rects.append(
                [
                    QRectF(x - node / 2, y0 + i * pitch - node / 2, node, node)
                    for i in range(n)
                ]
            )
        self._column_x = [col[0].center().x() if col else 0.0 for col in self._rects]
        self._layout_links()
        self._points_pixmap = None
        self._network_pixmap = None
        self._restyle_links()

    def _layout_links(self) -> None:
        starts, ends, owners = [], [], []
        for layer in range(len(self._layers)):
            for j, dst in enumerate(self._rects[layer + 1]):
                for i, src in enumerate(self._rects[layer]):
                    starts.append((src.right(), src.center().y()))
                    ends.append((dst.left(), dst.center().y()))
                    owners.append((layer, j, i))
        self._owners = owners
        self._paths = []
        if not owners:
            self._samples = np.zeros((0, LINK_SAMPLES, 2))
            return
        s, e = np.array(starts), np.array(ends)  # (links, 2)
        mid = (s[:, 0] + e[:, 0]) / 2
        c1 = np.stack([mid, s[:, 1]], axis=1)
        c2 = np.stack([mid, e[:, 1]], axis=1)
        curves = np.stack([s, c1, c2, e], axis=1)  # (links, 4, 2)
        for c in curves.tolist():
            path = QPainterPath(QPointF(*c[0]))
            path.cubicTo(QPointF(*c[1]), QPointF(*c[2]), QPointF(*c[3]))
            self._paths.append(path)
        t = np.linspace(0, 1, LINK_SAMPLES)[None, :, None]
        u = 1 - t
        p = curves[:, :, None, :]
        self._samples = (
            u**3 * p[:, 0]
            + 3 * u**2 * t * p[:, 1]
            + 3 * u * t**2 * p[:, 2]
            + t**3 * p[:, 3]
        )  # (links, samples, 2)

    def _link_weights(self) -> np.ndarray | None:
        if not self._owners or any(w is None for w in self._weights):
            return None
        return np.concatenate([w.ravel() for w in self._weights])  # (out, in) order

    def _restyle_links(self) -> None:
        """A pen per link, thin ones first so that strong links stay on top."""
        weights = self._link_weights() if self._paths else None
        if weights is None or len(weights) != len(self._paths):
            neutral = QPen(NEUTRAL_LINK, 1.0)
            self._link_styles = [(neutral, path) for path in self._paths]
            return
        thick = float(np.clip(self._node * 0.16, 1.8, 7.0))
        widths = 0.6 + (thick - 0.6) * np.minimum(np.abs(weights) / WIDTH_FULL, 1.0)
        widths = np.round(widths * 2) / 2
        shades = lut_index(
            np.round(np.clip(weights, -1, 1) * COLOUR_STEPS) / COLOUR_STEPS
        )
        styles = []
        for k in np.argsort(widths, kind="stable").tolist():
            key = (float(widths[k]), int(shades[k]))
            pen = self._pens.get(key)
            if pen is None:
                r, g, b, _ = LUT[key[1]]
                pen = self._pens[key] = QPen(QColor(int(r), int(g), int(b)), key[0])
                pen.setCapStyle(Qt.FlatCap)
            styles.append((pen, self._paths[k]))
        self._link_styles = styles

    # -- painting ----------------------------------------------------------------------
    def paintEvent(self, event):
        with drawing():
            self._paint(event)

    def _paint(self, event):
        start = time.perf_counter()
        self.paint_count += 1
        p = QPainter(self)
        if (
            self._network_pixmap is None
            or self._network_pixmap.size() != self._pixels()
        ):
            self._network_pixmap = self._render_network()
        p.drawPixmap(0, 0, self._network_pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        if self._hover is not None:
            p.setPen(QPen(HIGHLIGHT, 2.0))
            p.drawRect(self._rects[self._hover[0]][self._hover[1]])
        if self._plane:
            self._paint_heatmap(p)
        else:
            self._paint_bars(p)
        p.end()
        self.last_paint_ms = (time.perf_counter() - start) * 1000.0

    def _pixels(self) -> QSize:
        return self.size() * self.devicePixelRatioF()

    def _render_network(self) -> QPixmap:
        pixmap = QPixmap(self._pixels())
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        pixmap.fill(self.palette().base().color())
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        self._paint_headers(p)
        p.setBrush(Qt.NoBrush)
        for pen, path in self._link_styles:
            p.setPen(pen)
            p.drawPath(path)
        self._paint_nodes(p)
        if self._status:
            small_font(p, 0.8)
            p.setPen(FAINT_TEXT)
            box = QRectF(8, self.height() - 18, 300, 16)
            p.drawText(box, Qt.AlignLeft | Qt.AlignVCenter, self._status)
        p.end()
        return pixmap

    def _paint_headers(self, p: QPainter) -> None:
        small_font(p, 0.85)
        p.setPen(FAINT_TEXT)
        metrics = p.fontMetrics()
        width = max(64.0, self._node * 2.2)
        if len(self._column_x) > 1:
            width = min(width, self._column_x[1] - self._column_x[0] - 4)
        short = width < metrics.horizontalAdvance("Layer 8") + 6
        kind = "features" if self._plane else "inputs"
        heads = [("In" if short else "Input", f"{len(self._labels)} {kind}")]
        for i, layer in enumerate(self._layers):
            if i == len(self._layers) - 1:
                title = "Out" if short else "Output"
            else:
                title = f"L{i + 1}" if short else f"Layer {i + 1}"
            sep = " " if short else " · "
            heads.append((title, f"{layer.units}{sep}{layer.activation}"))
        for x, (a, b) in zip(self._column_x, heads):
            b = metrics.elidedText(b, Qt.ElideRight, int(width))
            p.drawText(QRectF(x - width / 2, 6, width, 16), Qt.AlignCenter, a)
            p.drawText(QRectF(x - width / 2, 21, width, 16), Qt.AlignCenter, b)

    def _paint_nodes(self, p: QPainter) -> None:
        p.setRenderHint(QPainter.SmoothPixmapTransform, True)
        bias_side = max(5.0, self._node * 0.2)
        frame = QPen(FRAME, 1.0)
        for c, rects in enumerate(self._rects):
            images, colours = self._pictures[c], self._node_colours[c]
            for i, r in enumerate(rects):
                if images is not None:
                    p.drawImage(r, images[i])
                else:
                    p.fillRect(
                        r, colours[i] if colours is not None else QColor(*MIDDLE)
                    )
            p.setPen(frame)
            p.setBrush(Qt.NoBrush)
            p.drawRects(rects)
            biases = self._biases[c - 1] if c else None
            if biases is not None:
                p.setPen(QPen(FRAME, 0.8))
                for i, r in enumerate(rects):
                    p.setBrush(color(float(np.clip(biases[i], -1, 1))))
                    p.drawRect(_bias_rect(r, bias_side))
                p.setBrush(Qt.NoBrush)
        small_font(p, 0.9)
        p.setPen(FAINT_TEXT)
        metrics = p.fontMetrics()
        for label, r in zip(self._labels, self._rects[0] if self._rects else []):
            box = QRectF(2, r.top(), r.left() - 6, r.height())
            text = metrics.elidedText(label, Qt.ElideRight, int(box.width()))
            p.drawText(box, Qt.AlignRight | Qt.AlignVCenter, text)

    def _paint_heatmap(self, p: QPainter) -> None:
        r = self._heat_rect
        small_font(p, 0.9, bold=True)
        p.setPen(HIGHLIGHT)
        caption = QRectF(r.left(), 10, self.width() - r.left() - 4, 20)
        p.drawText(caption, Qt.AlignLeft | Qt.AlignVCenter, self.heat_caption())
        image = self._hover_picture() or self._heat
        if image is not None:
            p.setRenderHint(QPainter.SmoothPixmapTransform, True)
            p.drawImage(r, image)
        else:
            p.fillRect(r, QColor(*MIDDLE))
        if self._points_pixmap is None:
            self._points_pixmap = self._render_points(r.size())
        if self._points_pixmap is not None:
            p.drawPixmap(r.topLeft(), self._points_pixmap)
        p.setPen(QPen(FRAME, 1.0))
        p.setBrush(Qt.NoBrush)
        p.drawRect(r)
        small_font(p, 0.8)
        p.setPen(FAINT_TEXT)
        half = f"{self._half:g}"
        for text, y in (
            (half, r.top()),
            ("0", r.center().y()),
            (f"-{half}", r.bottom()),
        ):
            box = QRectF(r.left() - 28, y - 8, 24, 16)
            p.drawText(box, Qt.AlignRight | Qt.AlignVCenter, text)
        for text, x in (
            (f"-{half}", r.left()),
            ("0", r.center().x()),
            (half, r.right()),
        ):
            p.drawText(QRectF(x - 15, r.bottom() + 2, 30, 14), Qt.AlignCenter, text)
        draw_legend(p, QRectF(r.left(), r.bottom() + 22, r.width(), 30), *self._legend)

    def _paint_bars(self, p: QPainter) -> None:
        r = self._right_rect.adjusted(8, 10, -8, -24)
        small_font(p, 0.9, bold=True)
        p.setPen(HIGHLIGHT)
        title = QRectF(r.left(), r.top(), r.width(), 20)
        p.drawText(title, Qt.AlignLeft | Qt.AlignVCenter, "Output")
        if self._bars is None:
            return
        labels, values, probabilities, true_index, caption = self._bars
        small_font(p, 0.8)
        p.setPen(FAINT_TEXT)
        line = QRectF(r.left(), r.top() + 20, r.width(), 16)
        p.drawText(line, Qt.AlignLeft | Qt.AlignVCenter, caption)
        area = QRectF(r.left(), r.top() + 42, r.width(), r.height() - 42)
        draw_bars(p, area, labels, values, probabilities, true_index)

    def heat_caption(self) -> str:
        if self._hover is not None and self._hover_picture() is not None:
            return self.describe(*self._hover)
        return "Output"

    def _hover_picture(self) -> QImage | None:
        if self._hover is None:
            return None
        c, i = self._hover
        values = self._picture_values[c] if c < len(self._picture_values) else None
        if values is None:
            return None
        if self._hover_image is None:
            big = upsample_bilinear(values[i], HEAT_UPSAMPLE)
            self._hover_image = value_image(big, pale=True)
        return self._hover_image

    def _render_points(self, size) -> QPixmap | None:
        if self._points is None or size.width() < 4:
            return None
        dpr = self.devicePixelRatioF()
        pixmap = QPixmap(int(size.width() * dpr), int(size.height() * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.Antialiasing)
        train_xy, train_c, test_xy, test_c = self._points
        radius = 3.0 if size.width() > 200 else 2.3
        sets = [(train_xy, train_c, QColor(255, 255, 255))]
        if self._show_test:
            sets.append((test_xy, test_c, QColor(25, 25, 25)))
        for xy, colours, stroke in sets:
            px = to_pixels(xy, self._half, size.width()).tolist()
            p.setPen(QPen(stroke, 1.0))
            for (x, y), k in zip(px, lut_index(colours).tolist()):
                p.setBrush(_lut_colour(k))
                p.drawEllipse(QPointF(x, y), radius, radius)
        p.end()
        return pixmap

    # -- the mouse ---------------------------------------------------------------------
    def node_at(self, pos: QPointF) -> tuple[int, int] | None:
        for c, rects in enumerate(self._rects):
            for i, r in enumerate(rects):
                if r.adjusted(-2, -2, 2, 2).contains(pos):
                    return c, i
        return None

    def describe(self, c: int, i: int) -> str:
        if c == 0:
            return f"input {self._labels[i]}"
        layer = self._layers[c - 1]
        where = "output" if c == len(self._layers) else f"layer {c}"
        return f"{where}, neuron {i + 1}: {layer.activation}"

    def set_hover(self, hover: tuple[int, int] | None) -> None:
        if hover != self._hover:
            self._hover = hover
            self._hover_image = None
            self.update()

    def mouseMoveEvent(self, event):
        self.set_hover(self.node_at(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event):
        self.set_hover(None)
        super().leaveEvent(event)

    def event(self, event):
        if event.type() == event.Type.ToolTip:
            return show_tooltip(self, event)
        return super().event(event)

    def tooltip_at(self, pos: QPointF) -> str:
        bias_side = max(5.0, self._node * 0.2)
        for c in range(1, len(self._rects)):
            biases = self._biases[c - 1]
            if biases is None:
                continue
            for i, r in enumerate(self._rects[c]):
                if _bias_rect(r, bias_side).adjusted(-1, -1, 1, 1).contains(pos):
                    return f"{self.describe(c, i)}\nbias {biases[i]:.4g}"
        node = self.node_at(pos)
        if node is not None:
            return self.describe(*node)
        return self._link_tooltip(pos)

    def _link_tooltip(self, pos: QPointF) -> str:
        if not len(self._samples):
            return ""
        d = np.hypot(self._samples[..., 0] - pos.x(), self._samples[..., 1] - pos.y())
        nearest = d.min(axis=1)  # (links,)
        k = int(np.argmin(nearest))
        if nearest[k] > 5:
            return ""
        layer, j, i = self._owners[k]
        text = f"{self.describe(layer, i)} → {self.describe(layer + 1, j)}"
        weights = self._weights[layer]
        if weights is not None:
            text = f"weight {weights[j, i]:.4g}\n{text}"
        return text


def _bias_rect(r: QRectF, side: float) -> QRectF:
    return QRectF(r.left() - side * 0.6, r.bottom() - side * 0.4, side, side)


_LUT_COLOURS = [QColor(int(r), int(g), int(b)) for r, g, b, _ in LUT]


def _lut_colour(k: int) -> QColor:
    return _LUT_COLOURS[k]


def _images(values: np.ndarray) -> list[QImage]:
    rgba = colorize(values)  # (units, n, n, 4)
    return [rgba_image(rgba[k]) for k in range(len(rgba))]
