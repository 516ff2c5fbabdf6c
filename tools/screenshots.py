"""Save screenshots of the main window for docs/screenshots/.

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python tools/screenshots.py
(QT_QPA_PLATFORM=offscreen works too.) Trains the default project for a few
seconds so the curves have something to show.
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
    window.grab().save(str(out / "builder.png"))

    session = window.session
    session.set_settings(session.settings.replace(epochs=300, device="cpu"))
    window.engine.run_ended.connect(loop.quit)
    window.train()
    QTimer.singleShot(1500, lambda: window.grab().save(str(out / "training-live.png")))
    loop.exec()
    app.processEvents()
    window.grab().save(str(out / "curves.png"))
    for index, name in ((1, "filter-lab"), (3, "attention"), (4, "latent"), (5, "diffusion")):
        window.tabs.setCurrentIndex(index)
        app.processEvents()
        window.grab().save(str(out / f"tab-{name}.png"))
    # a mismatch, shown in place
    window.tabs.setCurrentIndex(0)
    b = window.builder_tab
    b.dataset_choice.setCurrentIndex(b.dataset_choice.findData("iris"))
    app.processEvents()
    window.grab().save(str(out / "builder-mismatch.png"))
    session.mark_clean()
    window.close()
    print("saved", ", ".join(sorted(p.name for p in out.glob("*.png"))))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
