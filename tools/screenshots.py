"""Save screenshots of the main window for docs/screenshots/.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python tools/screenshots.py
(QT_QPA_PLATFORM=offscreen works too.) Trains small networks for a few seconds
so the pictures and curves have something to show.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PLAYGROUND_CONFIG_DIR", tempfile.mkdtemp())

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402

from playground.gui.app import make_app  # noqa: E402
from playground.gui.main_window import MainWindow  # noqa: E402


def main(out_dir="docs/screenshots") -> int:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = make_app()
    window = MainWindow()
    window.resize(1280, 800)
    window.show()
    loop = QEventLoop()
    window.torch_loader.loaded.connect(loop.quit)
    window.torch_loader.start()
    loop.exec()
    window.engine.run_ended.connect(loop.quit)
    session, builder = window.session, window.builder_tab

    def save(name):
        # views redraw a few times a second: let the last redraw happen
        wait = QEventLoop()
        QTimer.singleShot(700, wait.quit)
        wait.exec()
        window.grab().save(str(out / f"{name}.png"))

    def train(epochs, stay=True, live_shot=None):
        session.set_settings(session.settings.replace(epochs=epochs, device="cpu"))
        tab = window.tabs.currentWidget()
        window.train()
        if stay:
            window.tabs.setCurrentWidget(tab)
        if live_shot:
            QTimer.singleShot(1500, lambda: save(live_shot))
        loop.exec()
        app.processEvents()

    save("builder")
    builder.side.setCurrentIndex(1)
    save("builder-data")
    builder.side.setCurrentIndex(0)

    # TensorFlow Playground's spiral: three hidden layers of 16 tanh
    builder.apply_template("deep-mlp")
    train(300)
    save("builder-spiral-trained")

    # a mistake, marked in place
    builder.layer_list.select_path("1")
    builder.add_layer("Conv2d")
    save("builder-invalid")
    builder.undo()

    # LeNet-5 on the digits at 32x32: the block view with feature maps
    builder.apply_template("lenet5")
    builder.side.setCurrentIndex(2)
    train(3)
    save("builder-lenet5")

    # the curves of that run, and a comparison of two learning rates
    window.tabs.setCurrentWidget(window.curves_tab)
    save("curves")
    builder.apply_template("tfp-default")
    session.delete_runs(list(session.project.runs))
    for rate in (0.003, 0.03, 0.3):
        session.set_settings(session.settings.replace(learning_rate=rate, optimizer="sgd"))
        train(150, stay=False)
    save("curves-compare")

    filter_lab(window, save)
    for index, name in ((3, "attention"), (4, "latent"), (5, "diffusion")):
        window.tabs.setCurrentIndex(index)
        save(f"tab-{name}")
    session.mark_clean()
    window.close()
    print("saved", ", ".join(sorted(p.name for p in out.glob("*.png"))))
    return 0


def wait_until(condition, timeout_ms=30_000):
    waited = 0
    while not condition() and waited < timeout_ms:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
        waited += 50


def filter_lab(window, save):
    """The convolution filter lab: an edge kernel on the cat photo, one
    output pixel explained (zoomed in so its window shows), the step-through."""
    from PySide6.QtCore import QRectF

    lab = window.filter_tab
    panel = lab.apply_panel
    window.tabs.setCurrentWidget(lab)
    wait_until(lambda: lab.image is not None)
    panel.editor.select_preset("sobel x")
    wait_until(lambda: panel.result is not None)
    save("tab-filter-lab")
    panel.in_view.view.setRange(QRectF(170, 120, 60, 60), padding=0)
    panel.explain_at(150, 200)
    save("filter-lab-hover")
    panel.in_view.fit()
    panel.views.setCurrentIndex(1)
    for _ in range(13):
        panel.step.step_once()
    save("filter-lab-step")
    panel.views.setCurrentIndex(0)
    panel.editor.six_example.click()
    wait_until(lambda: panel.result is not None and panel.result.output.shape[0] == 6)
    save("filter-lab-six-filters")


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
