"""The voice call when a ticket is called: Mandarin via espeak-ng where installed, a chime otherwise.

With an output folder (the headless demo) each announcement is written as a WAV file
instead of played, so a run can be listened to afterwards.
"""

from __future__ import annotations

import logging
import math
import shutil
import struct
import subprocess
import threading
import wave
from pathlib import Path

log = logging.getLogger(__name__)


def chime_wav(path: Path, *, rate: int = 16000) -> Path:
    """A two-tone 叮咚 chime (660 Hz then 523 Hz)."""
    frames = bytearray()
    for frequency, seconds in ((660.0, 0.35), (523.0, 0.55)):
        count = int(rate * seconds)
        for i in range(count):
            envelope = math.exp(-3.0 * i / count)
            frames += struct.pack(
                "<h", int(12000 * envelope * math.sin(2 * math.pi * frequency * i / rate))
            )
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return path


class Announcer:
    def __init__(
        self,
        *,
        enabled: bool = True,
        out_dir: Path | None = None,
        voice: str = "cmn",
        max_files: int | None = None,
    ) -> None:
        self.enabled = enabled
        self._out_dir = out_dir
        self._max_files = max_files
        self._written = 0
        self._voice = voice
        self._espeak = shutil.which("espeak-ng")
        self._lock = threading.Lock()
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)

    @property
    def uses_speech(self) -> bool:
        return self._espeak is not None

    def announce(self, text: str) -> Path | None:
        """Say ``text`` (or chime). Never raises: a silent hall is better than a stopped one."""
        if not self.enabled:
            return None
        with self._lock:
            try:
                return self._announce(text)
            except (OSError, subprocess.SubprocessError) as err:
                log.warning("voice call failed: %s", err)
                return None

    def _announce(self, text: str) -> Path | None:
        if self._out_dir and self._max_files is not None and self._written >= self._max_files:
            return None
        self._written += 1
        target = self._out_dir / f"call-{self._written:03d}.wav" if self._out_dir else None
        if self._espeak:
            command = [self._espeak, "-v", self._voice, "-s", "140"]
            if target:
                command += ["-w", str(target)]
            subprocess.run([*command, text], check=True, timeout=10, capture_output=True)  # noqa: S603
            return target
        if target:
            return chime_wav(target)
        player = shutil.which("aplay")
        if player:
            chime = chime_wav(Path("/tmp") / "servicehall-chime.wav")  # noqa: S108 - a fixed, harmless sound file
            subprocess.run([player, "-q", str(chime)], check=False, timeout=5)  # noqa: S603
        return None
