"""Settings dialogs for the job's ``compare``, ``sync`` and ``filter`` sections.

Each dialog edits a copy of one section of the job document and hands back
the new section; the window re-validates the whole document with the
engine's ``job_from_dict`` before accepting it, so a dialog can never put a
job the engine would reject into the window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSpinBox, QVBoxLayout, QWidget)

from app.gui.icons import icon

ML_PRESET = (".git/", "venv/", ".venv/", "__pycache__/", "*.pyc", ".ipynb_checkpoints/",
             "wandb/")

#: What each variant does, drawn with arrows (the "picture" of the variant).
VARIANT_PICTURES = {
    "mirror": ("LEFT  ━━━▶  RIGHT\n new, changed  →  copied\n extra on the right  →  deleted",
               "The right becomes an exact copy of the left."),
    "update": ("LEFT  ━━━▶  RIGHT\n new, changed  →  copied\n nothing is deleted",
               "New and changed files go across; nothing is deleted."),
    "two_way": ("LEFT  ◀━━━▶  RIGHT\n changes on either side go across\n both changed  →  conflict",
                "Changes since the last sync go both ways, deletions too."),
    "custom": ("LEFT  ?━━━?  RIGHT\n a direction per category",
               "Choose what happens to each category."),
}


def _combo(values: tuple[str, ...], current: str, name: str) -> QComboBox:
    box = QComboBox()
    box.setObjectName(name)
    box.addItems(list(values))
    if current in values:
        box.setCurrentText(current)
    return box


class _SectionDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.form = QFormLayout()
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        self.extra = QVBoxLayout()
        layout.addLayout(self.extra)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class CompareSettingsDialog(_SectionDialog):
    def __init__(self, section: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__("Compare settings", parent)
        self.setObjectName("compareSettingsDialog")
        self.method = _combo(("time_size", "content", "size"),
                             section.get("method", "time_size"), "compareMethod")
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setObjectName("timeTolerance")
        self.tolerance.setRange(0, 86400)
        self.tolerance.setSuffix(" s")
        self.tolerance.setValue(float(section.get("time_tolerance_seconds", 2)))
        self.shift = QLineEdit(", ".join(str(h) for h in section.get("ignore_time_shift_hours",
                                                                     [])))
        self.shift.setObjectName("timeShiftHours")
        self.shift.setPlaceholderText("e.g. 1 (daylight-saving shifts)")
        self.symlinks = _combo(("skip", "follow", "as_link"), section.get("symlinks", "skip"),
                               "symlinks")
        self.form.addRow("Method", self.method)
        self.form.addRow("Time tolerance", self.tolerance)
        self.form.addRow("Ignore time shifts of (hours)", self.shift)
        self.form.addRow("Symbolic links", self.symlinks)

    def section(self) -> dict[str, Any]:
        hours = []
        for part in self.shift.text().replace(";", ",").split(","):
            part = part.strip()
            if part:
                hours.append(int(part) if part.lstrip("-").isdigit() else part)
        return {"method": self.method.currentText(),
                "time_tolerance_seconds": self.tolerance.value(),
                "ignore_time_shift_hours": hours,
                "symlinks": self.symlinks.currentText()}


class SyncSettingsDialog(_SectionDialog):
    def __init__(self, section: dict[str, Any], parent: QWidget | None = None) -> None:
        super().__init__("Synchronization settings", parent)
        self.setObjectName("syncSettingsDialog")
        self._custom = dict(section.get("custom", {}))
        self.variant = _combo(tuple(VARIANT_PICTURES), section.get("variant", "mirror"),
                              "syncVariant")
        self.direction = _combo(("to_right", "to_left"), section.get("direction", "to_right"),
                                "syncDirection")
        self.deletion = _combo(("recycle", "versioning", "permanent"),
                               section.get("deletion", "recycle"), "deletionHandling")
        self.versioning = QLineEdit(section.get("versioning_folder") or "")
        self.versioning.setObjectName("versioningFolder")
        self.max_delete = QSpinBox()
        self.max_delete.setObjectName("maxDeletePercent")
        self.max_delete.setRange(0, 100)
        self.max_delete.setSuffix(" %")
        self.max_delete.setValue(int(section.get("max_delete_percent", 50)))
        self.moves = QCheckBox("Detect moved and renamed files")
        self.moves.setObjectName("detectMoves")
        self.moves.setChecked(bool(section.get("detect_moves", True)))
        self.image = QLabel()
        self.image.setObjectName("variantImage")
        self.picture = QLabel()
        self.picture.setObjectName("variantPicture")
        self.picture.setStyleSheet("font-family: monospace; background: #f7fafc; "
                                   "border: 1px solid #cbd5e0; padding: 8px;")
        self.caption = QLabel()
        self.form.addRow("Variant", self.variant)
        self.form.addRow("", self.image)
        self.form.addRow("", self.picture)
        self.form.addRow("", self.caption)
        self.form.addRow("Direction", self.direction)
        self.form.addRow("Deleted and overwritten files", self.deletion)
        self.form.addRow("Versioning folder", self.versioning)
        self.form.addRow("Refuse when deleting more than", self.max_delete)
        self.form.addRow("", self.moves)
        self.variant.currentTextChanged.connect(self._show_variant)
        self.direction.currentTextChanged.connect(self._show_variant)
        self.deletion.currentTextChanged.connect(
            lambda v: self.versioning.setEnabled(v == "versioning"))
        self.versioning.setEnabled(self.deletion.currentText() == "versioning")
        self._show_variant()

    def _show_variant(self) -> None:
        v = self.variant.currentText()
        picture, caption = VARIANT_PICTURES[v]
        if self.direction.currentText() == "to_left" and v in ("mirror", "update"):
            picture = picture.replace("━━━▶", "◀━━━").replace("→", "←").replace(
                "on the right", "on the left")
            caption = caption.replace("right becomes an exact copy of the left",
                                      "left becomes an exact copy of the right")
        self.picture.setText(picture)
        self.caption.setText(caption)
        side = "left" if self.direction.currentText() == "to_left" else "right"
        name = f"variant-{v}-{side}" if v in ("mirror", "update") else f"variant-{v}"
        self.image.setPixmap(icon(name).pixmap(QSize(244, 80)))
        self.image.setAccessibleName(caption)
        self.direction.setEnabled(v in ("mirror", "update"))

    def section(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "variant": self.variant.currentText(), "direction": self.direction.currentText(),
            "deletion": self.deletion.currentText(),
            "versioning_folder": self.versioning.text().strip() or None,
            "max_delete_percent": self.max_delete.value(), "detect_moves": self.moves.isChecked(),
        }
        if out["variant"] == "custom":
            out["custom"] = self._custom
        return out


class FilterSettingsDialog(_SectionDialog):
    def __init__(self, section: dict[str, Any], defaults: tuple[str, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__("Filters", parent)
        self.setObjectName("filterSettingsDialog")
        self.include = QPlainTextEdit("\n".join(section.get("include", ["**"])))
        self.include.setObjectName("includePatterns")
        self.exclude = QPlainTextEdit("\n".join(section.get("exclude", list(defaults))))
        self.exclude.setObjectName("excludePatterns")
        self._section = section
        hint = QLabel("One .gitignore-style pattern per line, relative to the pair's root.")
        hint.setAlignment(Qt.AlignLeft)
        self.form.addRow(hint)
        self.form.addRow("Include", self.include)
        self.form.addRow("Exclude", self.exclude)
        row = QHBoxLayout()
        preset = QPushButton("Add the ML project preset")
        preset.setObjectName("mlPresetButton")
        preset.setToolTip("Exclude " + ", ".join(ML_PRESET))
        preset.clicked.connect(self.add_ml_preset)
        row.addWidget(preset)
        row.addStretch(1)
        self.extra.addLayout(row)

    def add_ml_preset(self) -> None:
        lines = [s for s in self.exclude.toPlainText().splitlines() if s.strip()]
        lines += [p for p in ML_PRESET if p not in lines]
        self.exclude.setPlainText("\n".join(lines))

    def section(self) -> dict[str, Any]:
        def lines(edit: QPlainTextEdit) -> list[str]:
            return [s.strip() for s in edit.toPlainText().splitlines() if s.strip()]
        out = dict(self._section)
        out["include"] = lines(self.include) or ["**"]
        out["exclude"] = lines(self.exclude)
        return out
