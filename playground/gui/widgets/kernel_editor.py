"""The filter lab's kernel editor: presets, size, one kernel for all channels
or one per RGB channel, normalising, and several kernels for a stack of
feature maps.

The editor holds every filter as three (K, K) channel slots; "one kernel for
all channels" uses the first slot everywhere. `kernel_for(channels)` gives the
array the core convolves: (K, K), (C, K, K) or, with several kernels,
(N, C, K, K).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from playground.core.filters.kernels import (
    MAX_KERNEL_SIZE,
    MIN_KERNEL_SIZE,
    PRESET_DESCRIPTIONS,
    PRESET_NAMES,
    format_number,
    is_zero_sum,
    normalise_kernel,
    preset_kernel,
)
from playground.gui.widgets.kernel_grid import KernelGridWidget

CUSTOM = "custom"
CHANNEL_NAMES = ("R", "G", "B")
MAX_FILTERS = 16


def resize_kernel(k: np.ndarray, size: int) -> np.ndarray:
    """Grow with zeros around, or keep the centre: the middle stays the middle."""
    old = k.shape[-1]
    if size == old:
        return k.copy()
    out = np.zeros((*k.shape[:-2], size, size), np.float32)
    if size > old:
        lo = (size - old) // 2
        out[..., lo : lo + old, lo : lo + old] = k
    else:
        lo = (old - size) // 2
        out[...] = k[..., lo : lo + size, lo : lo + size]
    return out


class KernelEditorWidget(QWidget):
    """Emits `kernel_changed` after every change that alters the kernel used."""

    kernel_changed = Signal()
    message = Signal(str)  # a typed value that could not be used

    def __init__(self, parent=None):
        super().__init__(parent)
        # filters: (N, 3, K, K); names: what each was made from
        self._filters = preset_kernel("sobel x")[None, None].repeat(3, axis=1)
        self._names = ["sobel x"]
        self._current = 0
        self._channel = 0
        self._seed = 0
        self._channels_available = 3
        # (filters, names) before the size was last reduced, to restore
        self._larger: tuple[np.ndarray, list[str]] | None = None

        self.preset = QComboBox()
        self.preset.setObjectName("presetChoice")
        self.preset.addItem(CUSTOM)
        self.preset.model().item(0).setEnabled(False)
        for i, name in enumerate(PRESET_NAMES, start=1):
            self.preset.addItem(name)
            self.preset.setItemData(i, PRESET_DESCRIPTIONS[name], Qt.ToolTipRole)
        self.preset.setToolTip(
            "Start from a kernel the lectures use; hover a name for what it does"
        )
        self.reroll = QPushButton("Re-roll")
        self.reroll.setToolTip(
            "New random weights (the 'random' preset with the next seed)"
        )
        self.size = QSpinBox()
        self.size.setRange(MIN_KERNEL_SIZE, MAX_KERNEL_SIZE)
        self.size.setValue(3)
        self.size.setSuffix(f" x {3}")
        self.size.setToolTip("Kernel size K: K x K weights (odd sizes have a centre)")
        self.shared = QRadioButton("One kernel for all channels")
        self.shared.setToolTip("The same weights filter red, green and blue")
        self.per_channel = QRadioButton("One per RGB channel")
        self.per_channel.setToolTip(
            "Separate weights for the red, green and blue channels"
        )
        self.shared.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.shared)
        group.addButton(self.per_channel)
        self.channel_tabs = QTabBar()
        for name in ("Red", "Green", "Blue"):
            self.channel_tabs.addTab(name)
        self.channel_tabs.setToolTip("Which channel's kernel the grid edits")
        self.channel_tabs.hide()
        self.grid = KernelGridWidget()
        self.grid.setObjectName("kernelGrid")
        self.normalise = QCheckBox("Normalise")
        self.normalise.setToolTip(
            "Divide the weights so they add up to 1 (a blur keeps the brightness); "
            "edge kernels, whose weights add up to 0, are divided by the sum of "
            "their absolute values instead. The grid keeps what you typed."
        )
        self.sum_label = QLabel()
        self.sum_label.setObjectName("kernelSum")
        self.sum_label.setWordWrap(True)

        self.several = QCheckBox("Several kernels (a stack of feature maps)")
        self.several.setToolTip(
            "A conv layer's view: each filter spans all input channels and sums them, "
            "giving one feature map per filter"
        )
        self.filter_list = QListWidget()
        self.filter_list.setObjectName("filterList")
        self.filter_list.setMaximumHeight(110)
        self.filter_list.setToolTip("The filters of the stack; pick one to edit it")
        self.add_filter = QPushButton("Add")
        self.add_filter.setToolTip("Add a filter with random weights")
        self.remove_filter = QPushButton("Remove")
        self.remove_filter.setToolTip("Remove the selected filter")
        self.six_example = QPushButton("Six 5x5 filters")
        self.six_example.setObjectName("sixFilters")
        self.six_example.setToolTip(
            "The lecture's example: a 32x32x3 image and six random 5x5x3 filters "
            "give six 28x28 feature maps (28x28x6)"
        )

        top = QGridLayout()
        top.addWidget(QLabel("Preset"), 0, 0)
        top.addWidget(self.preset, 0, 1)
        top.addWidget(self.reroll, 0, 2)
        top.addWidget(QLabel("Size"), 1, 0)
        top.addWidget(self.size, 1, 1)
        top.addWidget(self.normalise, 1, 2)
        top.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.shared)
        layout.addWidget(self.per_channel)
        layout.addWidget(self.channel_tabs)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.sum_label)
        layout.addWidget(self.several)
        self.stack_box = QWidget()
        stack_layout = QVBoxLayout(self.stack_box)
        stack_layout.setContentsMargins(0, 0, 0, 0)
        stack_layout.addWidget(self.filter_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_filter)
        buttons.addWidget(self.remove_filter)
        stack_layout.addLayout(buttons)
        self.stack_box.hide()
        layout.addWidget(self.stack_box)
        layout.addWidget(self.six_example)

        self.preset.currentIndexChanged.connect(self._on_preset)
        self.reroll.clicked.connect(self.reroll_random)
        self.size.valueChanged.connect(self._on_size)
        self.per_channel.toggled.connect(self._on_channel_mode)
        self.channel_tabs.currentChanged.connect(self._on_channel_tab)
        self.grid.kernel_edited.connect(self._on_grid_edited)
        self.grid.edit_failed.connect(self.message)
        self.normalise.toggled.connect(self._changed)
        self.several.toggled.connect(self._on_several)
        self.filter_list.currentRowChanged.connect(self._on_filter_row)
        self.add_filter.clicked.connect(self._add_random_filter)
        self.remove_filter.clicked.connect(self._remove_filter)
        self._select_preset("sobel x")
        self._show()

    # -- what the lab convolves -------------------------------------------------
    @property
    def stacked(self) -> bool:
        return self.several.isChecked()

    @property
    def filter_count(self) -> int:
        return len(self._filters)

    def kernel_for(self, channels: int) -> np.ndarray:
        """The kernel the core gets for an image of `channels` channels."""
        f = self._filters
        per = self.per_channel.isChecked() and channels == 3
        if self.stacked:
            k = f if per else np.repeat(f[:, :1], channels, axis=1)
        else:
            k = f[0] if per else f[0, 0]
        k = np.array(k, dtype=np.float32)
        return normalise_kernel(k) if self.normalise.isChecked() else k

    def raw_kernel(self) -> np.ndarray:
        """The grid's (K, K), as typed."""
        return self.grid.kernel()

    def set_channels_available(self, channels: int) -> None:
        """Per-channel kernels need an RGB image."""
        self._channels_available = channels
        self.per_channel.setEnabled(channels == 3)
        self.per_channel.setToolTip(
            "Separate weights for the red, green and blue channels"
            if channels == 3
            else "Needs an RGB image: choose RGB above"
        )
        self._show()

    # -- programmatic changes ------------------------------------------------------
    def set_kernel(self, kernel, name: str = CUSTOM) -> None:
        """Put a (K, K) kernel in the grid's filter and channel."""
        k = np.asarray(kernel, dtype=np.float32)
        self._set_size_quietly(k.shape[-1])
        if self.per_channel.isChecked():
            self._filters[self._current, self._channel] = k
        else:
            self._filters[self._current, :] = k
        self._names[self._current] = name
        self._select_preset(name)
        self._show()
        self._changed()

    def set_stack(self, kernels, names: list[str]) -> None:
        """Several filters (N, 3, K, K) at once (the six-filter example)."""
        k = np.asarray(kernels, dtype=np.float32)
        self._filters = k.copy()
        self._names = list(names)
        self._current = 0
        self._set_size_quietly(k.shape[-1])
        for w in (self.several, self.per_channel):
            w.blockSignals(True)
            w.setChecked(True)
            w.blockSignals(False)
        self.stack_box.show()
        self._select_preset(names[0] if names else CUSTOM)
        self._show()
        self._changed()

    def select_preset(self, name: str) -> None:
        """As a user picking it from the list (fires kernel_changed)."""
        index = self.preset.findText(name)
        if index < 0:
            raise ValueError(f"no preset {name!r}")
        if index == self.preset.currentIndex():
            self._on_preset(index)
        else:
            self.preset.setCurrentIndex(index)

    @Slot()
    def reroll_random(self) -> None:
        self._seed += 1
        k = preset_kernel("random", seed=self._seed, size=self.size.value())
        self.set_kernel(k, "random")
        if self.preset.currentText() != "random":
            self._select_preset("random")

    # -- slots -----------------------------------------------------------------
    @Slot(int)
    def _on_preset(self, index: int) -> None:
        name = self.preset.itemText(index)
        if name == CUSTOM:
            return
        if name == "random":  # the chosen size: it has no size of its own
            kernel = preset_kernel(name, seed=self._seed, size=self.size.value())
        else:
            kernel = preset_kernel(name)
        self.set_kernel(kernel, name)

    def _select_preset(self, name: str) -> None:
        index = self.preset.findText(name)
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(max(0, index))
        self.preset.blockSignals(False)
        self.reroll.setEnabled(name == "random")
        self.preset.setToolTip(
            PRESET_DESCRIPTIONS.get(
                name, "Edited by hand: pick a preset to start again"
            )
        )

    def _set_size_quietly(self, size: int) -> None:
        if size != self._filters.shape[-1]:
            self._filters = resize_kernel(self._filters, size)
        self.size.blockSignals(True)
        self.size.setValue(size)
        self.size.setSuffix(f" x {size}")
        self.size.blockSignals(False)

    @Slot(int)
    def _on_size(self, size: int) -> None:
        self.size.setSuffix(f" x {size}")
        old = self._filters.shape[-1]
        larger = self._larger
        if size < old and (larger is None or larger[0].shape[-1] < old):
            # cutting cells off: kept, so sizing back up brings them back
            # (sobel 3 -> 1 -> 3 used to come back as zeros around the centre)
            larger = self._larger = (self._filters.copy(), list(self._names))
        if (
            size > old
            and larger is not None
            and larger[0].shape[-1] >= size
            and larger[0].shape[:2] == self._filters.shape[:2]
            and np.array_equal(resize_kernel(larger[0], old), self._filters)
        ):
            self._filters = resize_kernel(larger[0], size)
            if size == larger[0].shape[-1]:  # as it was: its names too
                self._names = list(larger[1])
                self._larger = None
                self._select_preset(self._names[self._current])
                self._show()
                self._changed()
                return
        else:
            self._filters = resize_kernel(self._filters, size)
            if size > old:
                self._larger = None  # edited since: the kept kernel is stale
            self._names = [CUSTOM if n != "random" else n for n in self._names]
        self._select_preset(CUSTOM)
        self._show()
        self._changed()

    @Slot(bool)
    def _on_channel_mode(self, per: bool) -> None:
        if not per:  # back to one kernel: the grid's channel is it
            self._filters[:, :] = self._filters[:, self._channel : self._channel + 1]
            self._channel = 0
        self._show()
        self._changed()

    @Slot(int)
    def _on_channel_tab(self, index: int) -> None:
        self._channel = max(0, index)
        self._show()

    @Slot(object)
    def _on_grid_edited(self, k) -> None:
        if self.per_channel.isChecked():
            self._filters[self._current, self._channel] = k
        else:
            self._filters[self._current, :] = k
        self._names[self._current] = CUSTOM
        self._select_preset(CUSTOM)
        self._update_sum()
        self._refresh_list()
        self._changed()

    @Slot(bool)
    def _on_several(self, on: bool) -> None:
        self.stack_box.setVisible(on)
        if not on:
            self._filters = self._filters[self._current : self._current + 1].copy()
            self._names = [self._names[self._current]]
            self._current = 0
        self._show()
        self._changed()

    @Slot(int)
    def _on_filter_row(self, row: int) -> None:
        if 0 <= row < len(self._filters) and row != self._current:
            self._current = row
            self._select_preset(self._names[row])
            self._show()

    @Slot()
    def _add_random_filter(self) -> None:
        if len(self._filters) >= MAX_FILTERS:
            self.message.emit(f"At most {MAX_FILTERS} filters")
            return
        self._seed += 1
        size = self._filters.shape[-1]
        rng = np.random.default_rng(self._seed)
        new = (rng.standard_normal((1, 3, size, size)) / size).astype(np.float32)
        if not self.per_channel.isChecked():
            new[:, :] = new[:, :1]
        self._filters = np.concatenate([self._filters, new])
        self._names.append("random")
        self._current = len(self._filters) - 1
        self._select_preset("random")
        self._show()
        self._changed()

    @Slot()
    def _remove_filter(self) -> None:
        if len(self._filters) <= 1:
            return
        keep = [i for i in range(len(self._filters)) if i != self._current]
        self._filters = self._filters[keep]
        self._names = [self._names[i] for i in keep]
        self._current = min(self._current, len(self._filters) - 1)
        self._select_preset(self._names[self._current])
        self._show()
        self._changed()

    def _changed(self, *_) -> None:
        self._update_sum()
        self.kernel_changed.emit()

    # -- showing -----------------------------------------------------------------
    def _show(self) -> None:
        per = self.per_channel.isChecked() and self._channels_available == 3
        self.channel_tabs.setVisible(per)
        channel = self._channel if per else 0
        self.grid.set_kernel(self._filters[self._current, channel])
        self._refresh_list()
        self._update_sum()

    def _refresh_list(self) -> None:
        if not self.stacked:
            return
        names = [f"{i + 1}: {n}" for i, n in enumerate(self._names)]
        current = [
            self.filter_list.item(i).text() for i in range(self.filter_list.count())
        ]
        self.filter_list.blockSignals(True)
        if current != names:
            self.filter_list.clear()
            self.filter_list.addItems(names)
        self.filter_list.setCurrentRow(self._current)
        self.filter_list.blockSignals(False)
        self.remove_filter.setEnabled(len(self._filters) > 1)

    def _update_sum(self) -> None:
        k = self.grid.kernel()
        total = float(k.sum())
        if is_zero_sum(k):
            what = "flat areas give 0: it finds changes (edges)"
        elif abs(total - 1) < 1e-4:
            what = "brightness is kept"
        elif total > 1:
            what = "the image gets brighter"
        elif total > 0:
            what = "the image gets darker"
        else:
            what = "brightness is inverted"
        text = f"Weights add up to {format_number(total)}: {what}."
        if self.normalise.isChecked() and total != 1:
            text += " Normalised before use."
        self.sum_label.setText(text)
