"""The statistics bar, the progress panel and the result view."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QFrame, QGridLayout, QHBoxLayout, QLabel, QPlainTextEdit,
                               QProgressBar, QPushButton, QVBoxLayout, QWidget)

from app.core.events import BytesDone, ItemDone, ItemStarted, Message, PhaseStarted, ScanProgress
from app.gui.icons import icon
from app.gui.models.plan_model import human_size
from app.gui.stats import PlanStats


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StatsBar(QLabel):
    """``statsBar``: what the plan will do on each side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsBar")
        self.setAccessibleName("Plan statistics")
        self.setFrameShape(QFrame.StyledPanel)
        self.stats: PlanStats | None = None
        self.show_stats(None)

    def show_stats(self, s: PlanStats | None) -> None:
        self.stats = s
        if s is None:
            self.setText("No comparison yet: press Compare (F5).")
            return
        left = (f"← left: create {s.create_left:,}, update {s.update_left:,}, "
                f"delete {s.delete_left:,} ({human_size(s.bytes_left)})")
        right = (f"right →: create {s.create_right:,}, update {s.update_right:,}, "
                 f"delete {s.delete_right:,} ({human_size(s.bytes_right)})")
        extra = f"   moves {s.moves:,}" if s.moves else ""
        self.setText(f"{left}    |    {right}{extra}    |    conflicts {s.conflicts:,}")


class ProgressPanel(QFrame):
    """``progressPanel``: scan counts while comparing; bytes, items, speed
    and ETA while synchronizing. Fed with event batches from the runner."""

    pause_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressPanel")
        self.setAccessibleName("Progress")
        self.setFrameShape(QFrame.StyledPanel)
        grid = QGridLayout(self)
        self.phase = QLabel("")
        self.scanned = QLabel("")
        self.scanned.setObjectName("scannedLabel")
        self.current = QLabel("")
        self.current.setObjectName("currentLabel")
        self.elapsed = QLabel("")
        self.bar = QProgressBar()
        self.bar.setObjectName("syncProgressBar")
        self.bar.setRange(0, 1000)
        self.figures = QLabel("")
        self.figures.setObjectName("syncFigures")
        self.pause = QPushButton(icon("pause"), "Pause")
        self.pause.setObjectName("pauseButton")
        self.pause.setAccessibleName("Pause the synchronization")
        self.pause.setCheckable(True)
        self.pause.clicked.connect(self.pause_clicked)
        grid.addWidget(self.phase, 0, 0)
        grid.addWidget(self.scanned, 0, 1)
        grid.addWidget(self.elapsed, 0, 2)
        grid.addWidget(self.bar, 1, 0, 1, 2)
        grid.addWidget(self.pause, 1, 2)
        grid.addWidget(self.figures, 2, 0, 1, 3)
        grid.addWidget(self.current, 3, 0, 1, 3)
        self._tick = QTimer(self, interval=500)
        self._tick.timeout.connect(self._show_elapsed)
        self.reset("")

    def reset(self, mode: str) -> None:
        """Start showing a "compare" or "sync" (or nothing, "")."""
        self.mode = mode
        self.started = time.monotonic()
        self.scan_counts: dict[tuple[int, str], int] = {}
        self.total_items = self.total_bytes = 0
        self.items_done = self.bytes_done = self.failed = 0
        self.messages: list[str] = []
        self.pause.setChecked(False)
        self.pause.setVisible(mode == "sync")
        self.bar.setVisible(mode == "sync")
        self.figures.setVisible(mode == "sync")
        self.bar.setValue(0)
        self.phase.setText({"compare": "Comparing…", "sync": "Synchronizing…"}.get(mode, ""))
        self.scanned.setText("")
        self.current.setText("")
        self.figures.setText("")
        if mode:
            self._tick.start()
        else:
            self._tick.stop()
        self._show_elapsed()

    def finish(self, text: str) -> None:
        self._tick.stop()
        self.current.setText("")
        self._show_elapsed()
        self.pause.setVisible(False)
        self.phase.setText(text)

    def _show_elapsed(self) -> None:
        self.elapsed.setText(f"elapsed {_duration(time.monotonic() - self.started)}"
                             if self.mode else "")

    def add_batch(self, batch: list) -> None:
        for ev in batch:
            if isinstance(ev, ScanProgress):
                self.scan_counts[(ev.pair, ev.side)] = ev.items
                self.current.setText(f"scanning {ev.current}")
            elif isinstance(ev, PhaseStarted):
                if ev.phase == "sync":
                    self.total_items, self.total_bytes = ev.total_items, ev.total_bytes
                    self.started = time.monotonic()
                elif self.mode == "compare":
                    self.phase.setText(f"{ev.phase.capitalize()}…")
            elif isinstance(ev, ItemStarted):
                self.current.setText(f"{ev.action.replace('_', ' ')}: {ev.path}")
            elif isinstance(ev, BytesDone):
                self.bytes_done += ev.delta
            elif isinstance(ev, ItemDone):
                self.items_done += 1
                if not ev.ok and not ev.skipped:
                    self.failed += 1
            elif isinstance(ev, Message):
                self.messages.append(ev.text)
        self._show_counts()

    def _show_counts(self) -> None:
        left = sum(n for (_p, side), n in self.scan_counts.items() if side == "left")
        right = sum(n for (_p, side), n in self.scan_counts.items() if side == "right")
        if self.scan_counts:
            self.scanned.setText(f"scanned: left {left:,} · right {right:,} items")
        if self.mode != "sync":
            return
        spent = max(time.monotonic() - self.started, 1e-3)
        speed = self.bytes_done / spent
        if self.total_bytes:
            frac = min(self.bytes_done / self.total_bytes, 1.0)
        else:
            frac = self.items_done / self.total_items if self.total_items else 0.0
        self.bar.setValue(int(frac * 1000))
        eta = ""
        if speed > 0 and self.total_bytes > self.bytes_done:
            eta = f" · ETA {_duration((self.total_bytes - self.bytes_done) / speed)}"
        self.figures.setText(
            f"{self.items_done:,} of {self.total_items:,} items · "
            f"{human_size(self.bytes_done)} of {human_size(self.total_bytes)} · "
            f"{human_size(int(speed))}/s{eta}"
            + (f" · {self.failed} failed" if self.failed else ""))


class ResultView(QWidget):
    """What the last sync did: a one-line verdict and its log."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("resultView")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.verdict = QLabel("")
        self.verdict.setObjectName("resultVerdict")
        top.addWidget(self.verdict, 1)
        hide = QPushButton("Hide")
        hide.clicked.connect(self.hide)
        top.addWidget(hide)
        layout.addLayout(top)
        self.log = QPlainTextEdit()
        self.log.setObjectName("resultLog")
        self.log.setAccessibleName("Log of the last synchronization")
        self.log.setReadOnly(True)
        layout.addWidget(self.log)

    def show_result(self, verdict: str, log_text: str) -> None:
        self.verdict.setText(verdict)
        self.log.setPlainText(log_text)
        self.show()
