"""The data panel's option editors driven by real keys and arrow clicks: an edit
re-reads the dataset, and the editor being typed in must survive it."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QStyle, QStyleOptionSpinBox


def choose(window, name):
    panel = window.builder_tab.data_panel
    panel.choice.setCurrentIndex(panel.choice.findData(name))
    return panel


def test_type_an_option_and_press_enter(qtbot, window):
    panel = choose(window, "digits")
    editor = panel.option_editors["image_size"]
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClicks(editor, "16")
    qtbot.keyClick(editor, Qt.Key_Return)
    qtbot.wait(20)
    assert window.session.project.dataset_options["image_size"] == 16
    assert panel.option_editors["image_size"] is editor  # edited in place
    assert editor.value() == 16
    qtbot.keyClick(editor, Qt.Key_Up)  # focus stays: the arrow keys keep working
    qtbot.wait(20)
    assert window.session.project.dataset_options["image_size"] == 17


def test_click_an_options_up_arrow_repeatedly(qtbot, window):
    panel = choose(window, "spiral")
    editor = panel.option_editors["noise"]
    start = editor.value()
    option = QStyleOptionSpinBox()
    editor.initStyleOption(option)
    up = editor.style().subControlRect(
        QStyle.CC_SpinBox, option, QStyle.SC_SpinBoxUp, editor
    )
    for _ in range(4):
        qtbot.mouseClick(editor, Qt.LeftButton, pos=up.center())
        qtbot.wait(10)
    assert window.session.project.dataset_options["noise"] == start + 4 * editor.singleStep()
    assert panel.option_editors["noise"] is editor


def test_another_dataset_gets_its_own_option_editors(qtbot, window):
    panel = choose(window, "spiral")
    assert "noise" in panel.option_editors and "image_size" not in panel.option_editors
    panel = choose(window, "digits")
    assert "image_size" in panel.option_editors and "noise" not in panel.option_editors
    assert panel.options_form.rowCount() == len(panel.option_editors)
    assert isinstance(panel.option_editors["image_size"], QAbstractSpinBox)
