"""The user's own table: a CSV file with a header row and numeric features."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from .base import (
    CLASSIFICATION,
    REGRESSION,
    Builder,
    DatasetError,
    DatasetInfo,
    OptionSpec,
    finish,
    resolve_options,
    seed_option,
    val_percent_option,
)

# integer targets with at most this many distinct values are taken as classes
AUTO_MAX_CLASSES = 20
MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}
DELIMITERS = (",", ";", "\t")
# a table this large would not train interactively anyway; refuse before
# reading it into memory
MAX_FILE_BYTES = 512 * 1024 * 1024

CSV = DatasetInfo(
    name="csv",
    title="CSV file",
    task="auto",
    input_shape=(),
    size=0,
    description=(
        "Your own table: a CSV file with a header row, numeric feature columns "
        "and one target column. Text or small-integer targets make a "
        "classification, other numbers a regression. Features are standardised "
        "with the training part's statistics."
    ),
    options=(
        OptionSpec("path", "path", None, help="CSV file to read", required=True),
        OptionSpec(
            "target", "str", None,
            help="name of the target column (default: the last column)",
        ),
        OptionSpec(
            "task", "choice", "auto", choices=("auto", CLASSIFICATION, REGRESSION),
            help=(
                "auto: text targets, or whole numbers with at most "
                f"{AUTO_MAX_CLASSES} distinct values, are classes"
            ),
        ),
        OptionSpec(
            "standardize", "bool", True,
            help="scale each feature to mean 0 and std 1 (training statistics)",
        ),
        val_percent_option(20),
        seed_option(),
    ),
)


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) rows; blank lines are skipped."""
    if not path.exists():
        raise DatasetError(f"csv: file not found: {path}")
    if not path.is_file():
        raise DatasetError(f"csv: not a file: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DatasetError(f"csv: {path.name} is larger than 512 MB")
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"csv: cannot read {path}: {exc.strerror or exc}") from None
    try:
        content = text.decode("utf-8-sig")
    except UnicodeDecodeError:
        content = text.decode("latin-1")  # every byte decodes; spreadsheet exports
    lines = content.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise DatasetError(f"csv: {path.name} is empty")
    # the header decides the delimiter: the one that splits it into most columns
    delimiter = max(DELIMITERS, key=first.count)
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [c.strip() for c in cells]
            else:
                rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise DatasetError(f"csv: {path.name} line {reader.line_num}: {exc}") from None
    assert header is not None
    return header, rows


def _check_header(header: list[str], path: Path) -> list[str]:
    if len(header) < 2:
        raise DatasetError(
            f"csv: {path.name} needs a header row and at least two columns "
            "(features and a target); is it comma, semicolon or tab separated?"
        )
    names = [name or f"column {i + 1}" for i, name in enumerate(header)]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DatasetError(f"csv: column name {name!r} appears twice in the header")
        seen.add(name)
    if all(_is_number(n) for n in names):
        raise DatasetError(
            f"csv: {path.name} has no header row (the first row is all numbers); "
            "add a line of column names"
        )
    return names


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _missing(text: str) -> bool:
    return text.strip().lower() in MISSING


def make_csv(given):
    options = resolve_options("csv", CSV.options, given)
    path = Path(options["path"])
    header, rows = _read_rows(path)
    names = _check_header(header, path)
    if options["target"] is None:
        target = len(names) - 1
    elif options["target"] in names:
        target = names.index(options["target"])
    else:
        raise DatasetError(
            f"csv: no column named {options['target']!r}; the columns are "
            + ", ".join(names)
        )
    options["target"] = names[target]
    if len(rows) < 2:
        raise DatasetError(f"csv: {path.name} needs at least 2 data rows")

    features = [i for i in range(len(names)) if i != target]
    x = np.empty((len(rows), len(features)), dtype=np.float64)
    raw_target: list[str] = []
    for r, (line, cells) in enumerate(rows):
        if len(cells) != len(names):
            raise DatasetError(
                f"csv: row {line} has {len(cells)} values but the header has "
                f"{len(names)} columns"
            )
        for j, col in enumerate(features):
            cell = cells[col].strip()
            if _missing(cell):
                raise DatasetError(
                    f"csv: missing value in column {names[col]!r}, row {line}; "
                    "fill it in or remove the row"
                )
            try:
                value = float(cell)
            except ValueError:
                raise DatasetError(
                    f"csv: column {names[col]!r} is not numeric (row {line}: "
                    f"{cell!r}); only numeric feature columns are supported, "
                    "remove or encode it"
                ) from None
            if not math.isfinite(value):
                raise DatasetError(
                    f"csv: column {names[col]!r}, row {line}: {cell!r} is not a "
                    "finite number"
                )
            x[r, j] = value
        cell = cells[target].strip()
        if _missing(cell):
            raise DatasetError(
                f"csv: missing value in target column {names[target]!r}, row {line}"
            )
        raw_target.append(cell)

    task, y, class_names = _target(raw_target, options["task"], names[target], rows)
    warnings = []
    if task == CLASSIFICATION and len(class_names) > 100:
        warnings.append(
            f"the target {names[target]!r} has {len(class_names)} classes; "
            "did you mean task=regression?"
        )
    return finish(
        CSV, options, x, y,
        class_names=class_names,
        feature_names=[names[i] for i in features],
        standardize_features=options["standardize"],
        input_shape=(len(features),),
        title=path.name,
        task=task,
        warnings=warnings,
    )


def _target(cells: list[str], task: str, name: str, rows):
    """(task, y, class names) from the target column's text."""
    numbers: list[float] | None = []
    for cell in cells:
        try:
            value = float(cell)
        except ValueError:
            numbers = None
            break
        if not math.isfinite(value):
            numbers = None
            break
        numbers.append(value)
    if task == "auto":
        if numbers is None:
            task = CLASSIFICATION
        else:
            whole = all(v.is_integer() for v in numbers)
            task = (
                CLASSIFICATION
                if whole and len(set(numbers)) <= AUTO_MAX_CLASSES
                else REGRESSION
            )
    if task == REGRESSION:
        if numbers is None:
            bad = next(i for i, c in enumerate(cells) if not _finite(c))
            raise DatasetError(
                f"csv: target column {name!r} is not numeric (row {rows[bad][0]}: "
                f"{cells[bad]!r}); use task=classification for class labels"
            )
        return REGRESSION, np.asarray(numbers, dtype=np.float64)[:, None], []
    if numbers is not None:
        # numeric classes sort as numbers (2 before 10) and print without ".0"
        distinct = sorted(set(numbers))
        class_names = [_number_name(v) for v in distinct]
        index = {v: i for i, v in enumerate(distinct)}
        y = np.array([index[v] for v in numbers], dtype=np.int64)
    else:
        class_names = sorted(set(cells))
        index = {c: i for i, c in enumerate(class_names)}
        y = np.array([index[c] for c in cells], dtype=np.int64)
    if len(class_names) < 2:
        raise DatasetError(
            f"csv: target column {name!r} has a single value; a classification "
            "needs at least two classes"
        )
    return CLASSIFICATION, y, class_names


def _finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _number_name(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


BUILDERS = [Builder(CSV, make_csv)]
