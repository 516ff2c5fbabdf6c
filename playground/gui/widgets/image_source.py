"""Where the filter lab's image comes from: a sample, a file (Open, drag and
drop), the clipboard (an image, a file path or a file URL), as it is (Auto:
a gray file stays gray, so edge outputs get the diverging colours), in gray or
in RGB.

Files are decoded on a job runner, off the window's thread: a large photo
takes a moment and must not freeze the window. The same job makes the pixels
the pages display (the whole image, and a preview of at most PREVIEW_SIDE
pixels a side): for a 12 MP photo that took 0.9 s on the window's thread. A
file that cannot be used leaves the previous image in place and says why next
to the buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QUrl, Signal, Slot
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QWidget,
)

from playground.core.filters.images import (
    SAMPLE_DESCRIPTIONS,
    SAMPLE_IMAGES,
    ImageLoadError,
    LoadedImage,
    load_image,
    pixels_uint8,
    sample_image_path,
    to_gray,
)
from playground.gui.jobs import JobRunner

IMAGE_FILTER = (
    "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.ppm *.pgm *.ico "
    "*.tga);;All files (*)"
)
DEFAULT_SAMPLE = "chelsea"
PREVIEW_SIDE = 1024  # the learn page shows the image at most this large


@dataclass(frozen=True)
class ImagePixels:
    """What the pages display of an image, made in the loading job."""

    array: np.ndarray  # the image these pixels show
    pixels: np.ndarray  # uint8 (H, W) or (H, W, 3), full size
    preview: np.ndarray  # the same, at most PREVIEW_SIDE a side


def make_pixels(array: np.ndarray) -> ImagePixels:
    pixels = pixels_uint8(array, 0.0, 1.0)
    preview = pixels
    h, w = pixels.shape[:2]
    if max(h, w) > PREVIEW_SIDE:
        from PIL import Image

        scale = PREVIEW_SIDE / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        preview = np.asarray(Image.fromarray(pixels).resize(size, Image.BOX))
    return ImagePixels(array, pixels, preview)


def qimage_to_array(image: QImage, mode: str) -> np.ndarray:
    """A clipboard QImage as the core's (C, H, W) float32 in [0, 1]: over
    white where transparent (as load_image does), gray when asked or when
    every pixel is gray in "auto"."""
    rgba = image.convertToFormat(QImage.Format_RGBA8888)
    w, h = rgba.width(), rgba.height()
    buffer = np.frombuffer(rgba.constBits(), np.uint8, count=rgba.sizeInBytes())
    pixels = buffer.reshape(h, rgba.bytesPerLine())[:, : w * 4].reshape(h, w, 4)
    colour = pixels[..., :3].astype(np.float32) / 255.0
    if image.hasAlphaChannel():
        alpha = pixels[..., 3:].astype(np.float32) / 255.0
        colour = colour * alpha + (1.0 - alpha)
    gray_pixels = np.array_equal(colour[..., 0], colour[..., 1]) and np.array_equal(
        colour[..., 0], colour[..., 2]
    )
    if mode == "gray" or (mode == "auto" and gray_pixels):
        luma = colour @ np.array([0.299, 0.587, 0.114], np.float32)
        return np.ascontiguousarray(luma, dtype=np.float32)[None]
    # (C, H, W) view of (H, W, C) memory, like load_image's
    return np.ascontiguousarray(colour, dtype=np.float32).transpose(2, 0, 1)


class ImageSourceWidget(QWidget):
    """Emits `image_loaded(array, name)`; `load_failed(message)` leaves the
    previous image."""

    image_loaded = Signal(object, str)
    load_failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._source: tuple | None = (
            None  # ("path", path, name) or ("qimage", img, name)
        )
        self.loaded: LoadedImage | None = None
        self.shown: ImagePixels | None = None
        self.jobs = JobRunner(self, "filter-lab-images")
        self.jobs.result_ready.connect(self._on_loaded)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.busy_changed.connect(self._on_busy)

        self.sample = QComboBox()
        self.sample.setObjectName("sampleChoice")
        self.sample.addItem("Sample\u2026")
        self.sample.model().item(0).setEnabled(False)
        for i, name in enumerate(SAMPLE_IMAGES, start=1):
            self.sample.addItem(name)
            self.sample.setItemData(i, SAMPLE_DESCRIPTIONS[name], 3)  # ToolTipRole
        self.sample.setToolTip(
            "Built-in images (credits in resources/images/README.md): "
            + "; ".join(f"{n}: {SAMPLE_DESCRIPTIONS[n]}" for n in SAMPLE_IMAGES)
        )
        self.open_button = QPushButton("Open\u2026")
        self.open_button.setToolTip(
            "Open any image file pillow reads (PNG, JPEG, TIFF, BMP, GIF, WebP...); "
            "you can also drop a file here or paste with Ctrl+V"
        )
        self.paste_button = QPushButton("Paste")
        self.paste_button.setToolTip(
            "Use the image, file path or file URL on the clipboard (Ctrl+V)"
        )
        self.auto = QRadioButton("Auto")
        self.auto.setToolTip(
            "As the file is: a gray image one channel, a colour one three"
        )
        self.gray = QRadioButton("Gray")
        self.gray.setToolTip("One channel: the image's brightness")
        self.rgb = QRadioButton("RGB")
        self.rgb.setToolTip(
            "Three channels, red, green and blue, each filtered (a gray file "
            "gets three equal channels)"
        )
        self.auto.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.auto, self.gray, self.rgb):
            group.addButton(button)
        self.info = QLabel()
        self.info.setObjectName("imageInfo")
        self.error = QLabel()
        self.error.setObjectName("imageError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel("Image"))
        row.addWidget(self.sample)
        row.addWidget(self.open_button)
        row.addWidget(self.paste_button)
        row.addSpacing(12)
        row.addWidget(self.auto)
        row.addWidget(self.gray)
        row.addWidget(self.rgb)
        row.addSpacing(12)
        row.addWidget(self.info)
        row.addWidget(self.error, 1)
        row.addStretch(0)

        self.sample.activated.connect(self._on_sample)
        self.open_button.clicked.connect(self.open_dialog)
        self.paste_button.clicked.connect(self.paste)
        group.buttonToggled.connect(self._on_mode)

    # -- requests ------------------------------------------------------------
    def mode(self) -> str:
        if self.rgb.isChecked():
            return "rgb"
        return "gray" if self.gray.isChecked() else "auto"

    def load_sample(self, name: str) -> None:
        self.load_path(sample_image_path(name), name=name)

    def load_path(self, path, name: str | None = None) -> None:
        """Decode a file in the background (a sample, Open, a drop, a paste)."""
        path = Path(path)
        self._request(("path", path, name or path.name))

    def load_qimage(self, image: QImage, name: str = "pasted image") -> None:
        if image.isNull():
            self._show_error("The clipboard's image is empty.")
            return
        self._request(("qimage", QImage(image), name))

    def load_mime(self, mime: QMimeData) -> bool:
        """A drop or a paste: files first, then an image, then text naming a
        file. False (with a message) when there is nothing to load."""
        if mime.hasUrls():
            for url in mime.urls():
                if url.isLocalFile():
                    self.load_path(url.toLocalFile())
                    return True
            self._show_error(
                "Only files on this computer can be opened (no web addresses)."
            )
            return False
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage):
                self.load_qimage(image)
                return True
        if mime.hasText():
            text = (
                mime.text().strip().splitlines()[0].strip()
                if mime.text().strip()
                else ""
            )
            if text.startswith("file:"):
                text = QUrl(text).toLocalFile()
            if text and Path(text).expanduser().exists():
                self.load_path(Path(text).expanduser())
                return True
            if text.startswith(("http://", "https://")):
                self._show_error(
                    "Only files on this computer can be opened (no web addresses)."
                )
                return False
        self._show_error("The clipboard holds no image and no image file's path.")
        return False

    @Slot()
    def paste(self) -> None:
        self.load_mime(QApplication.clipboard().mimeData())

    @Slot()
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open an image", "", IMAGE_FILTER)
        if path:
            self.load_path(path)

    @Slot(int)
    def _on_sample(self, index: int) -> None:
        if index > 0:
            self.load_sample(self.sample.itemText(index))

    @Slot(object, bool)
    def _on_mode(self, _button, checked: bool) -> None:
        if checked and self._source is not None:
            self._request(self._source)

    def _request(self, source: tuple) -> None:
        job = {"path": _load_path, "qimage": _load_qimage, "array": _load_array}
        self.jobs.submit(job[source[0]], source, self.mode())

    def pixels_for(self, array) -> ImagePixels | None:
        """The display pixels the loading job made for `array`, if it did."""
        shown = self.shown
        return shown if shown is not None and shown.array is array else None

    # -- answers ---------------------------------------------------------------
    @Slot(int, object)
    def _on_loaded(self, _id, answer) -> None:
        source, loaded, shown = answer
        self._source = source
        self.loaded = loaded
        self.shown = shown
        self.error.hide()
        self.info.setText(self._info_text())
        self.info.setToolTip(f"Read as pillow mode {loaded.original_mode}")
        index = self.sample.findText(loaded.name)
        self.sample.blockSignals(True)
        self.sample.setCurrentIndex(max(0, index) if source[0] == "path" else 0)
        self.sample.blockSignals(False)
        self.image_loaded.emit(loaded.array, loaded.name)

    def _info_text(self) -> str:
        a = self.loaded.array
        kind = "RGB" if a.shape[0] == 3 else "gray"
        return f"{self.loaded.name}: {a.shape[2]}x{a.shape[1]} {kind}"

    @Slot(int, object)
    def _on_failed(self, _id, exc) -> None:
        if isinstance(exc, ImageLoadError):
            text = f"Could not open {exc}"
        else:
            text = f"Could not open the image: {exc}"
        self._show_error(text + " (the previous image is kept)")

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.load_failed.emit(text)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if busy:
            self.info.setText("Loading\u2026")
        elif self.loaded is not None and self.info.text() == "Loading\u2026":
            self.info.setText(self._info_text())

    def set_array(self, array: np.ndarray, name: str) -> None:
        """An image made by the lab itself (the six-filter example). It is
        kept in colour, so Gray, RGB and Auto still apply to it."""
        self._source = ("array", array, name)
        self.loaded = LoadedImage(
            array=array,
            name=name,
            original_mode="RGB",
            size=(array.shape[2], array.shape[1]),
        )
        self.shown = None
        self.error.hide()
        self.info.setText(self._info_text())
        self.sample.setCurrentIndex(0)

    def shutdown(self) -> None:
        self.jobs.shutdown()


# -- jobs (run on the runner's thread) ----------------------------------------------
def _load_path(source, mode):
    _, path, name = source
    loaded = load_image(path, mode=mode, name=name)
    return source, loaded, make_pixels(loaded.array)


def _load_qimage(source, mode):
    _, image, name = source
    array = qimage_to_array(image, mode)
    if mode == "rgb" and array.shape[0] == 1:
        array = _as_rgb(array)
    h, w = array.shape[1:]
    loaded = LoadedImage(array=array, name=name, original_mode="QImage", size=(w, h))
    return source, loaded, make_pixels(array)


def _load_array(source, mode):
    """The lab's own colour image (the six-filter example) in the chosen mode."""
    _, original, name = source
    array = original
    if mode == "gray" and array.shape[0] == 3:
        array = to_gray(array)
    elif mode == "rgb" and array.shape[0] == 1:
        array = _as_rgb(array)
    h, w = array.shape[1:]
    loaded = LoadedImage(array=array, name=name, original_mode="RGB", size=(w, h))
    return source, loaded, make_pixels(array)


def _as_rgb(gray: np.ndarray) -> np.ndarray:
    # (C, H, W) view of (H, W, C) memory, as load_image gives colour images
    return np.ascontiguousarray(np.repeat(gray[0][..., None], 3, axis=2)).transpose(
        2, 0, 1
    )
