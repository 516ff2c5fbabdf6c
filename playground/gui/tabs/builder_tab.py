"""Network builder: a layer palette, the network as an editable list with live
shapes and errors in place, a property editor generated from the catalogue,
templates, undo and redo; the data and training panels; and the network view,
which follows training live.

Every edit makes a new spec and goes through the session as one undo step, so
the list, the view and the Train button all redraw from the same spec.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from playground.core.compat import CompatibilityError, check_compatible
from playground.core.datasets import DatasetError
from playground.core.layers import CATALOGUE
from playground.core.memory import format_bytes
from playground.core.settings import OPTIMIZER_STATE_SLOTS, SettingsError
from playground.core.shapes import inspect
from playground.core.spec import LayerSpec, NetworkSpec
from playground.core.templates import TEMPLATES, adapt_to_dataset
from playground.gui.widgets.data_panel import DataPanelWidget
from playground.gui.widgets.hyperparameters_panel import HyperparametersPanel
from playground.gui.widgets.layer_list import LayerListWidget, shape_text
from playground.gui.widgets.layer_palette import LayerPaletteWidget
from playground.gui.widgets.layer_properties import LayerPropertiesWidget

SNAPSHOT_MS = 200  # network pictures refresh about five times a second


class _SpecEdit(QUndoCommand):
    """One edit of the network: the spec before and after.

    An edit that came with another dataset and settings (a template, a network
    fitted to a newly chosen dataset) carries them too, as (dataset name,
    options, settings) before and after: undoing only the network would leave
    a network that does not fit its data."""

    def __init__(
        self, tab, before, after, text, merge_key=None, select=None, data=None
    ):
        super().__init__(text)
        self.tab, self.before, self.after = tab, before, after
        self.merge_key, self.select = merge_key, select
        self.data_before, self.data_after = data or (None, None)
        self._select_before = tab.layer_list.current_path()

    def redo(self):
        self.tab._apply(self.after, self.select, self.data_after)

    def undo(self):
        self.tab._apply(self.before, self._select_before, self.data_before)

    def id(self):
        return 1 if self.merge_key else -1

    def mergeWith(self, other):
        # Spin-box arrows make one edit per click: one undo step per field.
        if other.merge_key != self.merge_key:
            return False
        self.after = other.after
        return True


def _parent_and_index(path: str) -> tuple[str, int]:
    *parents, last = path.split(".")
    return ".".join(parents), int(last)


def _join(parent: str, index: int) -> str:
    return f"{parent}.{index}" if parent else str(index)


class NetworkBuilderTab(QWidget):
    def __init__(self, session, engine=None, parent=None):
        super().__init__(parent)
        self.session = session
        self.engine = engine
        self.undo_stack = QUndoStack(self)
        self._editable = True
        self._pending_select = None

        # -- left: palette, data, training ----------------------------------------
        self.palette = LayerPaletteWidget()
        self.palette.layer_chosen.connect(self.add_layer)
        self.data_panel = DataPanelWidget()
        self.data_panel.dataset_edited.connect(self._on_dataset_edited)
        self.hyper_panel = HyperparametersPanel()
        self.hyper_panel.settings_edited.connect(self._on_settings_edited)
        self.side = QTabWidget()
        self.side.setObjectName("builderSide")
        self.side.addTab(self.palette, "Layers")
        self.side.addTab(_scrolled(self.data_panel), "Data")
        self.side.addTab(_scrolled(self.hyper_panel), "Training")
        self.side.setTabToolTip(
            0, "Click a layer to add it after the selected one, or drag it"
        )
        self.side.setTabToolTip(1, "The dataset, its options and a preview")
        self.side.setTabToolTip(2, "Optimizer, learning rate, batch size and the rest")

        # -- middle: the network --------------------------------------------------
        self.templates_button = QToolButton()
        self.templates_button.setText("Templates")
        self.templates_button.setObjectName("templatesButton")
        self.templates_button.setPopupMode(QToolButton.InstantPopup)
        self.templates_button.setToolTip(
            "Start from a known network, with a dataset and settings it trains well on"
        )
        menu = QMenu(self.templates_button)
        self.template_actions: dict[str, QAction] = {}
        for key, t in TEMPLATES.items():
            action = menu.addAction(t.title)
            action.setToolTip(t.description)
            action.triggered.connect(lambda _=False, k=key: self.apply_template(k))
            self.template_actions[key] = action
        menu.setToolTipsVisible(True)
        self.templates_button.setMenu(menu)

        self.undo_action = self._action(
            "Undo",
            self.undo,
            QKeySequence.Undo,
            "Undo the last edit of the network (Ctrl+Z)",
        )
        self.redo_action = self._action(
            "Redo",
            self.redo,
            "Ctrl+Shift+Z",
            "Redo the edit just undone (Ctrl+Shift+Z)",
        )
        self.redo_action.setShortcuts(
            [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
        self.undo_stack.undoTextChanged.connect(
            lambda text: self.undo_action.setToolTip(
                f"Undo {text} (Ctrl+Z)" if text else "Nothing to undo"
            )
        )
        self.undo_stack.redoTextChanged.connect(
            lambda text: self.redo_action.setToolTip(
                f"Redo {text} (Ctrl+Shift+Z)" if text else "Nothing to redo"
            )
        )
        self.undo_stack.indexChanged.connect(self._on_undo_index)
        self.delete_action = self._action(
            "Delete",
            self.delete_selected,
            QKeySequence.Delete,
            "Remove the selected layers (Del)",
        )
        self.duplicate_action = self._action(
            "Duplicate",
            self.duplicate_selected,
            "Ctrl+D",
            "Copy the selected layers below them (Ctrl+D)",
        )
        self.wrap_action = self._action(
            "Wrap in Residual",
            self.wrap_selected,
            "Ctrl+R",
            "Put the selected neighbouring layers in a Residual "
            "block: their input is added to their output",
        )
        self.up_action = self._action(
            "\u2191",
            lambda: self.move_selected(-1),
            "Alt+Up",
            "Move the selected layer up (Alt+Up)",
        )
        self.down_action = self._action(
            "\u2193",
            lambda: self.move_selected(1),
            "Alt+Down",
            "Move the selected layer down (Alt+Down)",
        )
        tools = QHBoxLayout()
        tools.addWidget(self.templates_button)
        self.tool_buttons = []
        for a in (
            self.undo_action,
            self.redo_action,
            self.delete_action,
            self.duplicate_action,
            self.wrap_action,
            self.up_action,
            self.down_action,
        ):
            b = QToolButton()
            b.setDefaultAction(a)
            tools.addWidget(b)
            self.tool_buttons.append(b)
        tools.addStretch(1)

        self.network_title = QLabel()
        self.network_title.setObjectName("networkTitle")
        self.layer_list = LayerListWidget()
        self.layer_list.layer_dropped.connect(self.insert_layer)
        self.layer_list.layer_moved.connect(self.move_layer)
        self.layer_list.itemSelectionChanged.connect(self._on_selection)
        self.totals = QLabel()
        self.totals.setObjectName("networkTotals")
        self.totals.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setObjectName("problemLabel")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.fit_button = QPushButton("Fit to dataset")
        self.fit_button.setToolTip(
            "Set the input shape and the last layer's size from the dataset"
        )
        self.fit_button.clicked.connect(self.fit_to_dataset)
        self.properties = LayerPropertiesWidget()
        self.properties.arg_edited.connect(self._on_arg_edited)
        props_box = QGroupBox("Layer settings")
        QVBoxLayout(props_box).addWidget(self.properties)

        middle = QWidget()
        mid = QVBoxLayout(middle)
        mid.setContentsMargins(0, 0, 0, 0)
        mid.addLayout(tools)
        mid.addWidget(self.network_title)
        mid.addWidget(self.layer_list, 3)
        mid.addWidget(self.totals)
        problem_row = QHBoxLayout()
        problem_row.addWidget(self.problem, 1)
        problem_row.addWidget(self.fit_button, 0, Qt.AlignTop)
        mid.addLayout(problem_row)
        mid.addWidget(props_box, 2)

        # -- right: the network view ----------------------------------------------
        self.view = _make_network_view()
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.setObjectName("builderSplitter")
        self.splitter.addWidget(self.side)
        self.splitter.addWidget(middle)
        self.splitter.addWidget(self.view)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([300, 390, 580])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.splitter)

        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setInterval(SNAPSHOT_MS)
        self._snapshot_timer.timeout.connect(self._request_snapshot)

        session.spec_changed.connect(self._show_network)
        session.problem_changed.connect(self._show_problem)
        session.dataset_changed.connect(self._show_dataset)
        session.settings_changed.connect(self._show_settings)
        session.project_loaded.connect(self._on_project_loaded)
        if engine is not None:
            engine.state_changed.connect(self._on_engine_state)
            engine.snapshot_ready.connect(self._on_snapshot)
            engine.run_ended.connect(self._on_run_ended)
        if hasattr(self.view, "probe_changed") and engine is not None:
            self.view.probe_changed.connect(lambda: engine.set_probe(self.view.probe()))
        self._show_network()
        self._show_dataset()
        self._show_settings()
        self._show_problem(session.problem)

    def _action(self, text, slot, shortcut, tip):
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    # -- session -> widgets -------------------------------------------------------
    @Slot()
    def _show_network(self, *_):
        spec = self.session.spec
        infos, errors = inspect(spec)
        self.network_title.setText(
            f"<b>{spec.name or 'Network'}</b> \u2014 input {shape_text(spec.input_shape)}"
        )
        self.layer_list.blockSignals(True)
        self.layer_list.show_network(spec, infos, errors)
        if self._pending_select is not None:
            self.layer_list.select_path(self._pending_select)
            self._pending_select = None
        self.layer_list.blockSignals(False)
        self._on_selection()
        summary = self.session.summary
        if summary is not None:
            s = self.session.settings
            memory = summary.estimate_memory_bytes(
                s.batch_size, OPTIMIZER_STATE_SLOTS.get(s.optimizer, 2)
            )
            self.totals.setText(
                f"<b>{summary.total_params:,}</b> parameters \u00b7 output "
                f"{shape_text(summary.output_shape)} \u00b7 about {format_bytes(memory)} "
                f"to train at batch {s.batch_size}"
            )
        else:
            count = sum(info.params for path, info in infos.items() if "." not in path)
            self.totals.setText(
                f"{len(errors)} problem{'s' if len(errors) != 1 else ''} "
                f"\u00b7 {count:,} parameters in the layers that fit so far"
            )
        self._update_view_model()
        self._update_actions()

    @Slot(str)
    def _show_problem(self, problem: str):
        self.problem.setText(f"Cannot train: {problem}" if problem else "")
        self.fit_button.setVisible(bool(problem) and self.session.summary is not None)

    @Slot()
    def _show_dataset(self):
        p = self.session.project
        dataset, error = self._dataset()
        self.data_panel.show_dataset(p.dataset_name, p.dataset_options, dataset, error)
        self._update_view_model()

    @Slot()
    def _show_settings(self, *_):
        self.hyper_panel.show_settings(self.session.settings)

    @Slot()
    def _on_project_loaded(self):
        self.undo_stack.clear()
        runs = self.session.project.runs
        last = runs[-1] if runs else None
        if last is not None and last.weights and hasattr(self.view, "show_weights"):
            self.view.show_weights(last.weights)

    def _dataset(self):
        """(the project's dataset, "") or (None, why it cannot be loaded)."""
        try:
            return self.session.dataset(), ""
        except (DatasetError, OSError) as exc:
            return None, str(exc)

    def _update_view_model(self):
        if not hasattr(self.view, "set_model"):
            return
        dataset, _ = self._dataset()
        self.view.set_model(self.session.spec, self.session.summary, dataset)

    def set_editable(self, editable: bool) -> None:
        """Lock what a running job was started with; the run record keeps it."""
        self._editable = editable
        for w in (
            self.data_panel,
            self.hyper_panel,
            self.palette,
            self.templates_button,
            self.properties,
            self.fit_button,
        ):
            w.setEnabled(editable)
        self.layer_list.setDragDropMode(
            LayerListWidget.DragDrop if editable else LayerListWidget.NoDragDrop
        )
        self._update_actions()

    @Slot(int)
    def _on_undo_index(self, _index):
        # the stack clears itself (emitting this) while the tab is destroyed
        if shiboken6.isValid(self.undo_stack) and shiboken6.isValid(self.layer_list):
            self._update_actions()

    def _update_actions(self):
        paths = self.layer_list.selected_paths()
        editable = self._editable
        self.delete_action.setEnabled(editable and bool(paths))
        self.duplicate_action.setEnabled(editable and bool(paths))
        self.wrap_action.setEnabled(editable and self._wrappable(paths))
        self.up_action.setEnabled(editable and len(paths) == 1)
        self.down_action.setEnabled(editable and len(paths) == 1)
        if not editable:
            self.undo_action.setEnabled(False)
            self.redo_action.setEnabled(False)
        else:
            self.undo_action.setEnabled(self.undo_stack.canUndo())
            self.redo_action.setEnabled(self.undo_stack.canRedo())

    # -- editing -------------------------------------------------------------------
    def edit(
        self, spec: NetworkSpec, text: str, merge_key=None, select=None, data=None
    ) -> None:
        """Apply a new spec as one undoable step (with ``data``: the dataset
        and settings before and after, restored with it)."""
        if not self._editable or (spec == self.session.spec and data is None):
            return
        self.undo_stack.push(
            _SpecEdit(self, self.session.spec, spec, text, merge_key, select, data)
        )
        self._update_actions()

    def _data_state(self):
        p = self.session.project
        return (p.dataset_name, dict(p.dataset_options), self.session.settings)

    def _apply(self, spec, select=None, data=None):
        self._pending_select = select
        if data is not None:
            name, options, settings = data
            if (name, options) != self._data_state()[:2]:
                self.session.set_dataset(name, dict(options))
            if settings != self.session.settings:
                self.session.set_settings(settings)
        self.session.set_spec(spec)

    def undo(self):
        if self._editable:
            self.undo_stack.undo()

    def redo(self):
        if self._editable:
            self.undo_stack.redo()

    def new_layer(self, type_name: str) -> LayerSpec:
        t = CATALOGUE[type_name]
        args = t.defaults()
        if type_name == "Dropout":
            args["p"] = round(float(self.hyper_panel.dropout.value()), 4)
        if type_name == "Residual":
            return LayerSpec("Residual", {}, (LayerSpec("Identity", {}),))
        return LayerSpec(type_name, args)

    @Slot(str)
    def add_layer(self, type_name: str) -> None:
        """A palette click: after the selected layer, or at the end."""
        path = self.layer_list.current_path()
        if path is None:
            parent, index = "", len(self.session.spec.layers)
        else:
            parent, index = _parent_and_index(path)
            index += 1
        self.insert_layer(type_name, parent, index)

    @Slot(str, str, int)
    def insert_layer(self, type_name: str, parent: str, index: int) -> None:
        path = _join(parent, index)
        spec = self.session.spec.insert_layer(path, self.new_layer(type_name))
        self.edit(spec, f"Add {type_name}", select=path)

    @Slot(str, str, int)
    def move_layer(self, path: str, parent: str, index: int) -> None:
        """Drag to a new place; a layer cannot go inside itself."""
        if parent == path or parent.startswith(path + "."):
            return
        spec = self.session.spec
        layer = spec.layer_at(path)
        old_parent, old_index = _parent_and_index(path)
        if old_parent == parent and index > old_index:
            index -= 1  # removing it first shifts the later siblings up
        if old_parent == parent and index == old_index:
            return
        spec = spec.remove_layer(path)
        # a later sibling of the moved layer's ancestors shifts too
        if parent and old_parent == "" and int(parent.split(".")[0]) > old_index:
            head, *rest = parent.split(".")
            parent = ".".join([str(int(head) - 1), *rest])
        target = _join(parent, index)
        self.edit(spec.insert_layer(target, layer), f"Move {layer.type}", select=target)

    def move_selected(self, step: int) -> None:
        paths = self.layer_list.selected_paths()
        if len(paths) != 1:
            return
        parent, index = _parent_and_index(paths[0])
        siblings = (
            self.session.spec.layer_at(parent).layers
            if parent
            else self.session.spec.layers
        )
        to = index + step
        if not 0 <= to < len(siblings):
            return
        spec = self.session.spec.move_layer(paths[0], to)
        self.edit(spec, "Move layer", select=_join(parent, to))

    def delete_selected(self) -> None:
        paths = self.layer_list.selected_paths()
        # nested selections inside a removed block go with it
        paths = [p for p in paths if not any(p.startswith(q + ".") for q in paths)]
        if not paths:
            return
        spec = self.session.spec
        for path in sorted(
            paths, key=lambda p: [int(x) for x in p.split(".")], reverse=True
        ):
            spec = spec.remove_layer(path)
        first = paths[0]
        parent, index = _parent_and_index(first)
        count = len(spec.layer_at(parent).layers) if parent else len(spec.layers)
        select = _join(parent, min(index, count - 1)) if count else None
        self.edit(
            spec,
            f"Delete {len(paths)} layer{'s' if len(paths) > 1 else ''}",
            select=select,
        )

    def duplicate_selected(self) -> None:
        paths = self.layer_list.selected_paths()
        paths = [p for p in paths if not any(p.startswith(q + ".") for q in paths)]
        if not paths:
            return
        spec = self.session.spec
        last_parent, last_index = _parent_and_index(paths[-1])
        copies = [spec.layer_at(p) for p in paths]
        for offset, layer in enumerate(copies, start=1):
            spec = spec.insert_layer(_join(last_parent, last_index + offset), layer)
        self.edit(spec, "Duplicate", select=_join(last_parent, last_index + 1))

    def _wrappable(self, paths) -> bool:
        if not paths:
            return False
        parents = {_parent_and_index(p)[0] for p in paths}
        if len(parents) != 1:
            return False
        indices = sorted(_parent_and_index(p)[1] for p in paths)
        return indices == list(range(indices[0], indices[0] + len(indices)))

    def wrap_selected(self) -> None:
        paths = self.layer_list.selected_paths()
        if not self._wrappable(paths):
            return
        parent, first = _parent_and_index(paths[0])
        spec = self.session.spec
        body = tuple(spec.layer_at(p) for p in paths)
        for p in reversed(paths):
            spec = spec.remove_layer(p)
        block = LayerSpec("Residual", {}, body)
        target = _join(parent, first)
        self.edit(spec.insert_layer(target, block), "Wrap in Residual", select=target)

    @Slot(str, object)
    def _on_arg_edited(self, name, value):
        path = self.layer_list.current_path()
        if path is None:
            return
        layer = self.session.spec.layer_at(path)
        args = dict(layer.args)
        t = CATALOGUE.get(layer.type)
        arg = next((a for a in t.args if a.name == name), None) if t else None
        if arg is not None and not arg.required and value == arg.default:
            args.pop(name, None)  # a default stays implicit, as in a spec file
        else:
            args[name] = value
        if args == layer.args:
            return
        new = LayerSpec(layer.type, args, layer.layers)
        self.edit(
            self.session.spec.with_layer(path, new),
            f"Edit {name}",
            merge_key=(path, name),
            select=path,
        )

    @Slot()
    def _on_selection(self):
        path = self.layer_list.current_path()
        layer = None
        if path is not None:
            try:
                layer = self.session.spec.layer_at(path)
            except (IndexError, ValueError):
                layer = None
        self.properties.show_layer(layer, path or "")
        error = self.layer_list.errors.get(path or "\0")
        if error:
            self.properties.title.setText(
                self.properties.title.text()
                + f"<br><span style='color:#b00020'>\u26a0 {error}</span>"
            )
        self._update_actions()

    def apply_template(self, key: str) -> None:
        if not self._editable:
            return
        t = TEMPLATES[key]
        before = self._data_state()
        try:
            settings = self.session.settings.replace(**t.settings)
        except SettingsError:
            settings = self.session.settings
        after = (t.dataset, dict(t.dataset_options), settings)
        self.edit(t.spec(), f"Template {t.title}", data=(before, after))

    @Slot()
    def fit_to_dataset(self):
        ds, _ = self._dataset()
        if ds is None:
            return
        spec = adapt_to_dataset(self.session.spec, ds.input_shape, ds.output_size)
        self.edit(spec, "Fit to dataset")

    @Slot(str, dict)
    def _on_dataset_edited(self, name, options):
        before = self._data_state()
        self.session.set_dataset(name, options)
        ds, _ = self._dataset()
        if ds is None:
            return
        spec = self.session.spec
        # A new dataset (or another feature set) usually means another input
        # size: follow it, as one undoable step, when the network no longer fits.
        try:
            if self.session.summary is None:
                raise CompatibilityError("the network's shapes are unknown")
            check_compatible(spec, ds, self.session.settings.loss, self.session.summary)
        except CompatibilityError:
            self.edit(
                adapt_to_dataset(spec, ds.input_shape, ds.output_size),
                "Fit to dataset",
                data=(before, self._data_state()),
            )

    @Slot(dict)
    def _on_settings_edited(self, changes):
        try:
            self.session.set_settings(self.session.settings.replace(**changes))
        except SettingsError as exc:
            self.problem.setText(f"Cannot use that setting: {exc}")
            self._show_settings()

    # -- training ------------------------------------------------------------------
    @Slot(str)
    def _on_engine_state(self, state):
        if state == "running" and self.isVisible():
            self._snapshot_timer.start()
        elif state != "running":
            self._snapshot_timer.stop()

    @Slot()
    def _request_snapshot(self):
        if self.engine is not None and self.isVisible():
            self.engine.request_snapshot()

    def showEvent(self, event):
        super().showEvent(event)
        if self.engine is not None and self.engine.state == "running":
            self._snapshot_timer.start()

    def hideEvent(self, event):
        super().hideEvent(event)
        self._snapshot_timer.stop()

    @Slot(object)
    def _on_snapshot(self, snapshot):
        if hasattr(self.view, "show_snapshot") and self.isVisible():
            self.view.show_snapshot(snapshot)

    @Slot(object)
    def _on_run_ended(self, event):
        summary = getattr(event, "summary", None)
        if (
            summary is not None
            and summary.state_dict
            and hasattr(self.view, "show_weights")
        ):
            self.view.show_weights(summary.state_dict)

    def probe(self):
        """The inputs the network view wants training snapshots taken on."""
        return self.view.probe() if hasattr(self.view, "probe") else None


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    area.setFrameShape(QScrollArea.NoFrame)
    return area


def _make_network_view() -> QWidget:
    try:
        from playground.gui.widgets.network_view import NetworkViewWidget
    except ImportError:
        label = QLabel("The network view appears here.")
        label.setAlignment(Qt.AlignCenter)
        return label
    return NetworkViewWidget()
