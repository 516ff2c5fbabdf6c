"""A tab whose contents arrive in a later release: says what will be there."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PlaceholderTab(QWidget):
    def __init__(self, title: str, text: str, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        heading = QLabel(f"<h2>{title}</h2>")
        heading.setAlignment(Qt.AlignCenter)
        body = QLabel(text)
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignCenter)
        # The box layout does not ask a wrapped label for its height at the
        # width it gets, and clips its lines: fix both.
        body.setFixedWidth(640)
        body.setMinimumHeight(body.heightForWidth(640))
        body.setObjectName("placeholderText")
        layout.addWidget(heading)
        layout.addWidget(body, 0, Qt.AlignHCenter)
        soon = QLabel("<i>Coming in a later version of Neural Playground.</i>")
        soon.setAlignment(Qt.AlignCenter)
        layout.addWidget(soon)
        layout.addStretch(2)


PLACEHOLDERS = {
    "Attention heatmaps": (
        "Type a sequence and see softmax(QK\u1d40/\u221ad\u2096)V at work: the "
        "attention matrix of every head and layer as a heatmap, queries, keys "
        "and values side by side, and how positional encodings change it."
    ),
    "Latent space": (
        "Train an autoencoder or a variational autoencoder and explore its "
        "latent space: the codes of the whole dataset as a scatter coloured by "
        "class, decode any point you click, and interpolate between two inputs."
    ),
    "Diffusion steps": (
        "Watch a diffusion model at work: the forward process adding noise step "
        "by step (with its closed form), the noise schedule, and a trained "
        "denoiser turning pure noise back into data, one step at a time."
    ),
}
