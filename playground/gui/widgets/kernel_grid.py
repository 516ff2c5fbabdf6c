"""A convolution kernel as a grid of cells to type into or drag like sliders.

Each cell shows its weight and is coloured by sign and size with the lab's
orange (negative) - white - blue (positive) map, scaled to the largest
weight, so a Sobel kernel reads at a glance. Drag a cell up or down to change
it continuously (Shift: finer, Ctrl: coarser), turn the mouse wheel over it,
or type: a digit, Enter, F2 or a double-click opens an editor in the cell.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QWidget

from playground.core.filters.images import DIVERGING_LUT
from playground.core.filters.kernels import format_number

DRAG_STEP = 0.02  # weight per pixel of mouse travel: 100 px = 2
DRAG_THRESHOLD = 3  # pixels before a press becomes a drag (a click selects)
WHEEL_STEP = 0.1
MAX_ABS = 1e6  # typed values beyond this are typos


def cell_color(value: float, limit: float) -> QColor:
    """The diverging colour of a weight, -limit orange .. +limit blue."""
    if not limit > 0:
        limit = 1.0
    index = round((float(value) / limit + 1.0) * 127.5)
    r, g, b = DIVERGING_LUT[min(255, max(0, index))]
    return QColor(int(r), int(g), int(b))


def fit_number(value: float, width: float, measure) -> str:
    """The value written to fit `width` pixels, `measure(text)` giving a
    text's width: in full (format_number) when it fits, else with fewer
    decimals, never without its minus sign; "" when not even the whole
    number fits (the cell's colour still shows the value)."""
    v = float(value)
    if not np.isfinite(v):
        candidates = [str(v)]
    else:
        candidates = [format_number(v)]
        for decimals in (3, 2, 1, 0):
            text = f"{v:.{decimals}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            if text in ("-0", "0", "") and v != 0:
                continue  # rounds to 0: the sign, or the value, would be lost
            candidates.append(text)
        if abs(v) >= 1e4 or 0 < abs(v) < 0.01:
            # tiny errors and huge values: short scientific forms
            candidates += [f"{v:.1e}", f"{v:.0e}"]
    for text in candidates:
        if measure(text) <= width:
            return text
    return ""


def parse_cell(text: str) -> float:
    """A typed weight: '0.5', '-2', '1/9', '2e-3'; ValueError otherwise."""
    t = text.strip().replace(",", ".").replace("\u2212", "-")
    if not t:
        raise ValueError("type a number, such as 1, -0.5 or 1/9")
    if "/" in t:
        top, _, bottom = t.partition("/")
        value = float(top) / float(bottom)
    else:
        value = float(t)
    if not np.isfinite(value) or abs(value) > MAX_ABS:
        raise ValueError(f"{text!r} is not a usable weight")
    return value


class KernelGridWidget(QWidget):
    """Edits a (K, K) kernel. `kernel_edited` fires on every user change
    (continuously while dragging); `set_kernel` does not fire it."""

    kernel_edited = Signal(object)  # (K, K) float32
    edit_failed = Signal(str)
    drag_finished = Signal()

    def __init__(self, parent=None, editable: bool = True):
        super().__init__(parent)
        self._k = np.zeros((3, 3), np.float32)
        self._k[1, 1] = 1.0
        self._editable = editable
        self._selected = (1, 1)
        self._press: tuple[QPoint, float, tuple[int, int]] | None = None
        self._dragging = False
        self._limit_override: float | None = None
        self._gray = False
        self.setFocusPolicy(Qt.StrongFocus if editable else Qt.NoFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(120, 120)
        self._editor = QLineEdit(self)
        self._editor.setObjectName("kernelCellEditor")
        self._editor.setAlignment(Qt.AlignCenter)
        self._editor.hide()
        self._editor.editingFinished.connect(self._commit_editor)
        self._editor.installEventFilter(self)
        if editable:
            self.setToolTip(
                "The kernel's weights. Drag a cell up or down to change it "
                "(Shift: finer, Ctrl: coarser), scroll over it, or type a number "
                "(1/9 works). Orange is negative, blue positive."
            )

    # -- data ----------------------------------------------------------------
    def kernel(self) -> np.ndarray:
        return self._k.copy()

    def set_kernel(self, kernel) -> None:
        k = np.array(kernel, dtype=np.float32)
        if k.ndim != 2 or k.shape[0] != k.shape[1]:
            raise ValueError(f"a kernel is (K, K), not {k.shape}")
        self._k = k
        r, c = self._selected
        size = k.shape[0]
        self._selected = (min(r, size - 1), min(c, size - 1))
        self._editor.hide()
        self.update()

    def set_color_limit(self, limit: float | None) -> None:
        """Colour against this limit instead of the kernel's own largest weight
        (so an explanation's grids share one scale)."""
        self._limit_override = limit
        self.update()

    def set_gray(self, gray: bool) -> None:
        """Colour cells as pixel brightness (0 black, 1 white): for patches."""
        self._gray = gray
        self.update()

    @property
    def size_k(self) -> int:
        return int(self._k.shape[0])

    def selected_cell(self) -> tuple[int, int]:
        return self._selected

    # -- geometry ------------------------------------------------------------
    def _cell_size(self) -> float:
        return max(8.0, (min(self.width(), self.height()) - 2) / self.size_k)

    def _origin(self) -> tuple[float, float]:
        side = self._cell_size() * self.size_k
        return ((self.width() - side) / 2, (self.height() - side) / 2)

    def cell_rect(self, row: int, col: int) -> QRectF:
        c = self._cell_size()
        x0, y0 = self._origin()
        return QRectF(x0 + col * c, y0 + row * c, c, c)

    def cell_at(self, pos) -> tuple[int, int] | None:
        c = self._cell_size()
        x0, y0 = self._origin()
        col = int((pos.x() - x0) // c)
        row = int((pos.y() - y0) // c)
        if 0 <= row < self.size_k and 0 <= col < self.size_k:
            return (row, col)
        return None

    def sizeHint(self) -> QSize:
        return QSize(220, 220)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    # -- painting ------------------------------------------------------------
    def paintEvent(self, event):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing, False)
        k = self._k
        limit = self._limit_override or float(np.abs(k).max()) or 1.0
        c = self._cell_size()
        font = QFont(self.font())
        # The font follows the cell, but not below 9 px (smaller is unreadable);
        # the numbers then lose decimals to fit, never their sign.
        longest = max(len(format_number(v)) for v in k.ravel())
        font.setPixelSize(max(9, int(min(c * 0.34, 26, c * 0.92 / (0.62 * longest)))))
        p.setFont(font)
        metrics = QFontMetricsF(font)
        room = c - 4
        texts = [
            [fit_number(v, room, metrics.horizontalAdvance) for v in row] for row in k
        ]
        grid = QPen(QColor(150, 155, 160))
        for row in range(self.size_k):
            for col in range(self.size_k):
                rect = self.cell_rect(row, col)
                value = float(k[row, col])
                if self._gray:
                    g = round(min(1.0, max(0.0, value)) * 255)
                    fill = QColor(g, g, g)
                else:
                    fill = cell_color(value, limit)
                p.fillRect(rect, fill)
                p.setPen(grid)
                p.drawRect(rect)
                dark = fill.lightnessF() < 0.55
                p.setPen(QColor(255, 255, 255) if dark else QColor(20, 20, 20))
                p.drawText(rect, Qt.AlignCenter, texts[row][col])
        if self._editable and self.hasFocus() or self._dragging:
            p.setPen(QPen(QColor(30, 30, 30), 2))
            p.drawRect(self.cell_rect(*self._selected).adjusted(1, 1, -1, -1))
        p.end()

    # -- mouse -----------------------------------------------------------------
    def mousePressEvent(self, event):
        if not self._editable or event.button() != Qt.LeftButton:
            return super().mousePressEvent(event)
        cell = self.cell_at(event.position())
        if cell is None:
            return
        self._commit_editor()
        self._selected = cell
        self._press = (event.position().toPoint(), float(self._k[cell]), cell)
        self._dragging = False
        self.setFocus(Qt.MouseFocusReason)
        self.update()

    def mouseMoveEvent(self, event):
        if self._editable:
            over = self.cell_at(event.position())
            self.setCursor(Qt.SizeVerCursor if over else Qt.ArrowCursor)
        if self._press is None or not event.buttons() & Qt.LeftButton:
            return
        start, value, cell = self._press
        dy = start.y() - event.position().y()
        if not self._dragging and abs(dy) < DRAG_THRESHOLD:
            return
        self._dragging = True
        step = DRAG_STEP
        if event.modifiers() & Qt.ShiftModifier:
            step /= 10
        elif event.modifiers() & Qt.ControlModifier:
            step *= 10
        new = round((value + dy * step) / (step / 2)) * (step / 2)
        self._set_cell(cell, float(np.round(new, 4)))

    def mouseReleaseEvent(self, event):
        was_dragging = self._dragging
        self._press = None
        self._dragging = False
        self.update()
        if was_dragging:
            self.drag_finished.emit()

    def mouseDoubleClickEvent(self, event):
        cell = self.cell_at(event.position())
        if self._editable and cell is not None:
            self._selected = cell
            self.open_editor()

    def wheelEvent(self, event):
        cell = self.cell_at(event.position())
        if not self._editable or cell is None:
            return super().wheelEvent(event)
        notches = event.angleDelta().y() / 120
        step = WHEEL_STEP / 10 if event.modifiers() & Qt.ShiftModifier else WHEEL_STEP
        self._selected = cell
        self._set_cell(cell, float(np.round(self._k[cell] + notches * step, 4)))
        event.accept()

    def leaveEvent(self, event):
        self.unsetCursor()
        super().leaveEvent(event)

    # -- keyboard and the inline editor ----------------------------------------
    def keyPressEvent(self, event):
        if not self._editable:
            return super().keyPressEvent(event)
        key = event.key()
        r, c = self._selected
        moves = {
            Qt.Key_Up: (-1, 0),
            Qt.Key_Down: (1, 0),
            Qt.Key_Left: (0, -1),
            Qt.Key_Right: (0, 1),
        }
        if key in moves:
            dr, dc = moves[key]
            size = self.size_k
            self._selected = (
                min(size - 1, max(0, r + dr)),
                min(size - 1, max(0, c + dc)),
            )
            self.update()
            return
        if key in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_F2):
            self.open_editor()
            return
        if key in (Qt.Key_Delete, Qt.Key_Backspace):
            self._set_cell(self._selected, 0.0)
            return
        text = event.text()
        if text and (text.isdigit() or text in "-.\u2212"):
            self.open_editor(text)
            return
        super().keyPressEvent(event)

    def open_editor(self, initial: str | None = None) -> None:
        rect = self.cell_rect(*self._selected).toRect().adjusted(1, 1, -1, -1)
        self._editor.setGeometry(rect)
        self._editor.setText(
            initial if initial is not None else format_number(self._k[self._selected])
        )
        self._editor.show()
        self._editor.setFocus(Qt.OtherFocusReason)
        if initial is None:
            self._editor.selectAll()

    def _commit_editor(self) -> None:
        if not self._editor.isVisible():
            return
        text = self._editor.text()
        self._editor.hide()
        self.setFocus(Qt.OtherFocusReason)
        try:
            value = parse_cell(text)
        except (ValueError, ZeroDivisionError) as exc:
            message = (
                str(exc)
                if "weight" in str(exc) or "type" in str(exc)
                else (f"{text!r} is not a number: type one such as 1, -0.5 or 1/9")
            )
            self.edit_failed.emit(message)
            return
        if value != float(self._k[self._selected]):
            self._set_cell(self._selected, value)

    def eventFilter(self, obj, event):
        if (
            obj is self._editor
            and event.type() == event.Type.KeyPress
            and event.key() == Qt.Key_Escape
        ):
            self._editor.hide()
            self.setFocus(Qt.OtherFocusReason)
            return True
        return super().eventFilter(obj, event)

    def edit_cell(self, row: int, col: int, value: float) -> None:
        """Change one weight as a user edit does (fires kernel_edited)."""
        self._selected = (row, col)
        self._set_cell((row, col), float(value))

    def _set_cell(self, cell, value: float) -> None:
        self._k = self._k.copy()  # readers keep the array they were given
        self._k[cell] = value
        self.update()
        self.kernel_edited.emit(self._k.copy())
