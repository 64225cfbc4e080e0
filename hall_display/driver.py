"""Drive a board from ``BoardContent``: send only what changed, report and survive board faults."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from devices.errors import DeviceError
from devices.ledboard.board import BoardColour, BoardMessage, BoardMode, HallBoard
from hall_display.content import BoardContent, Message

log = logging.getLogger(__name__)

_COLOURS = {"red": BoardColour.RED, "green": BoardColour.GREEN, "amber": BoardColour.AMBER}


def to_board(message: Message) -> BoardMessage:
    """The hall's message in the board's own, board-neutral terms."""
    return BoardMessage(
        message.text,
        mode=BoardMode.FLASH if message.flash else BoardMode.HOLD,
        colour=_COLOURS.get(message.colour, BoardColour.RED),
    )


class BoardDriver:
    """Keeps one board showing the content it is given. Thread-safe; never raises on board faults."""

    def __init__(self, board: HallBoard, *, rotation_size: int = 6) -> None:
        self._board = board
        self._rotation_size = rotation_size
        self._lock = threading.Lock()
        self._shown_priority: Message | None = None
        self._shown_rotation: tuple[Message, ...] | None = None
        self._priority_sent = False
        self.last_error: str | None = None

    def apply(self, content: BoardContent) -> bool:
        """Push changes; False when the board could not take them (retried on the next call)."""
        with self._lock:
            try:
                rotation = content.rotation[: self._rotation_size]
                if rotation != self._shown_rotation:
                    self._board.show([to_board(m) for m in rotation] or [BoardMessage(" ")])
                    self._shown_rotation = rotation
                if content.priority != self._shown_priority or not self._priority_sent:
                    self._board.show_priority(
                        to_board(content.priority) if content.priority else None
                    )
                    self._shown_priority = content.priority
                    self._priority_sent = True
            except DeviceError as err:
                # Forget what was shown: after a replug the board must be sent everything again.
                self._shown_rotation = None
                self._priority_sent = False
                if self.last_error != str(err):
                    log.warning("LED board: %s", err)
                self.last_error = str(err)
                return False
            self.last_error = None
            return True


class DisplayLoop:
    """Recomputes the content every ``interval_s`` (and at once when poked) and applies it."""

    def __init__(
        self,
        compute: Callable[[datetime], BoardContent],
        drivers: list[BoardDriver],
        clock: Callable[[], datetime],
        *,
        interval_s: float = 0.5,
        on_voice: Callable[[str], object] | None = None,
    ) -> None:
        self._compute = compute
        self._drivers = drivers
        self._clock = clock
        self._interval_s = interval_s
        self._on_voice = on_voice
        self._last_voice: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hall-display", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Something changed (a call was made): update now rather than at the next tick."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():  # a hall that failed to start never started its loop
            self._thread.join(5)

    def tick(self) -> BoardContent:
        content = self._compute(self._clock())
        for driver in self._drivers:
            driver.apply(content)
        if (
            content.voice
            and content.voice_key
            and self._on_voice
            and content.voice_key != self._last_voice
        ):
            self._last_voice = content.voice_key
            self._on_voice(content.voice)
        return content

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the display must outlive any one bad tick
                log.exception("hall display tick failed")
            self._wake.wait(self._interval_s)
            self._wake.clear()
