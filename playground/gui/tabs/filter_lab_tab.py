"""The convolution filter lab: one image, three pages.

"Apply a kernel" edits a kernel and the convolution's settings and shows the
output live; "Learn a filter" trains a single convolution to reproduce a
target; "Inside a trained CNN" reads the project's trained CNN. The image bar
above them is shared: every page gets the lab's image when it changes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from playground.gui.widgets.apply_kernel_panel import ApplyKernelPanel
from playground.gui.widgets.cnn_inspector import CnnInspectorPanel
from playground.gui.widgets.image_source import DEFAULT_SAMPLE, ImageSourceWidget
from playground.gui.widgets.learn_filter_panel import LearnFilterPanel


class FilterLabTab(QWidget):
    """`image_changed(array, name)` after every new image; `image_failed`
    with the message when one could not be used (the old one stays)."""

    image_changed = Signal(object, str)
    image_failed = Signal(str)

    def __init__(self, session, engine, parent=None):
        super().__init__(parent)
        self.session = session
        self.engine = engine
        self.image = None
        self.image_name = ""
        self.setAcceptDrops(True)

        self.source = ImageSourceWidget()
        self.apply_panel = ApplyKernelPanel()
        self.pages = QTabWidget()
        self.pages.setObjectName("filterLabPages")
        self.pages.setDocumentMode(True)
        self.pages.addTab(self.apply_panel, "Apply a kernel")
        self.pages.setTabToolTip(0, "Edit a kernel and watch it act on the image")
        self.learn_panel = LearnFilterPanel(session)
        self.pages.addTab(self.learn_panel, "Learn a filter")
        self.pages.setTabToolTip(
            1, "Train a single convolution to reproduce a target image"
        )
        self.cnn_panel = CnnInspectorPanel(session)
        self.pages.addTab(self.cnn_panel, "Inside a trained CNN")
        self.pages.setTabToolTip(
            2, "Filters, feature maps, saliency and Grad-CAM of a trained CNN"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.source)
        layout.addWidget(self.pages, 1)

        self.paste_shortcut = QShortcut(QKeySequence.Paste, self)
        self.paste_shortcut.setContext(Qt.WidgetWithChildrenShortcut)
        self.paste_shortcut.activated.connect(self.source.paste)
        self.source.image_loaded.connect(self.set_image)
        self.source.load_failed.connect(self.image_failed)
        self.apply_panel.image_requested.connect(self._on_example_image)
        self._started = False

    def showEvent(self, event):
        super().showEvent(event)
        if not self._started:
            # the first sample loads when the tab is first seen, not at start-up
            self._started = True
            QTimer.singleShot(0, self, self._load_first_image)

    @Slot()
    def _load_first_image(self) -> None:
        if self.image is None:
            self.source.load_sample(DEFAULT_SAMPLE)

    def panels(self) -> list:
        return [self.apply_panel, self.learn_panel, self.cnn_panel]

    @Slot(object, str)
    def set_image(self, array, name: str) -> None:
        """The lab's image for every page."""
        self.image = array
        self.image_name = name
        # pixels the loading job made: converting a 12 MP photo here froze
        # the window for most of a second
        shown = self.source.pixels_for(array)
        self.apply_panel.set_image(
            array, name, pixels=shown.pixels if shown else None
        )
        self.learn_panel.set_image(
            array, name, preview=shown.preview if shown else None
        )
        self.cnn_panel.set_image(array, name)
        self.image_changed.emit(array, name)

    @Slot(object, str)
    def _on_example_image(self, array, name: str) -> None:
        self.source.set_array(array, name)
        self.set_image(array, name)

    # -- drag and drop ---------------------------------------------------------
    def dragEnterEvent(self, event):
        mime = event.mimeData()
        if mime.hasUrls() or mime.hasImage():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        event.acceptProposedAction()

    def dropEvent(self, event):
        if self.source.load_mime(event.mimeData()):
            event.acceptProposedAction()

    def shutdown(self) -> None:
        """Stop every background job (the window is closing)."""
        self.source.shutdown()
        for panel in self.panels():
            panel.shutdown()
