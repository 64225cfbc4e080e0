"""Spoken prompts (optional): a kiosk that says "请刷银行卡" helps people who cannot read
the screen well. espeak-ng speaks Mandarin (``cmn``) and English; without it, nothing is said.

Speaking never blocks a screen: each prompt runs in its own process, and a new prompt
stops the one before it. Nothing a customer typed or owns is ever spoken.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading

from kiosk.text import Lang, T

log = logging.getLogger(__name__)

VOICES = {Lang.ZH: "cmn", Lang.EN: "en"}


class Speaker:
    def __init__(self, program: str | None = None) -> None:
        self._program = program or shutil.which("espeak-ng")
        self._lock = threading.Lock()
        self._current: subprocess.Popen[bytes] | None = None
        self.said: list[str] = []  # what was asked to be said, for tests and the log
        if self._program is None:
            log.info("espeak-ng not found: spoken prompts are off")

    @property
    def available(self) -> bool:
        return self._program is not None

    def say(self, text: T, lang: Lang) -> None:
        words = text(lang)
        with self._lock:
            self.said.append(words)
            if self._program is None:
                return
            if self._current is not None and self._current.poll() is None:
                self._current.terminate()
            try:
                self._current = subprocess.Popen(  # noqa: S603 - a fixed program, no shell
                    [self._program, "-v", VOICES[lang], "-s", "150", words],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            except OSError as err:
                log.warning("cannot speak: %s", err)
                self._program = None

    def close(self) -> None:
        with self._lock:
            if self._current is not None and self._current.poll() is None:
                self._current.terminate()
