"""The voice call when a ticket is called: Mandarin via espeak-ng where it speaks it, a chime otherwise.

The call's text is first made speakable (``hall_display.spoken``: 请 A 零二三 号到 三 号窗口).
Which espeak-ng voice: on espeak-ng 1.51 (Debian 12) the ``cmn`` voice treats Latin text as
English, and its dictionary turns characters into tone-numbered pinyin, so 请 comes out as
English "king three" (espeak-ng issues #1236, #1370); ``cmn-latn-pinyin`` reads the same
pinyin as Mandarin. Newer releases fixed ``cmn``. Rather than trust a version number, the
voices are tried at start: a voice is used only if its phonemes for a sample call switch
to no other language. If none passes, calls are a chime, and the log says once why.

With an output folder (the headless demo) each announcement is written as a WAV file
instead of played, so a run can be listened to afterwards.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import struct
import subprocess
import threading
import wave
from collections.abc import Sequence
from pathlib import Path

from hall_display.spoken import spoken_text

log = logging.getLogger(__name__)

# Tried in this order; the first whose phonemes stay Mandarin is used.
VOICES = ("cmn-latn-pinyin", "cmn")
# A sample call with a letter, ticket digits and a two-character counter number.
SAMPLE_CALL = "请 A012 号到 12 号窗口"
# espeak-ng -x marks a switch of language as "(en)" … "(cmn)".
_LANGUAGE_SWITCH = re.compile(r"\((?!cmn\))[a-z-]+\)")
_TIMEOUT_S = 10


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


def phonemes(espeak: str, voice: str, text: str) -> str:
    """What espeak-ng would say for ``text`` (already speakable), as IPA; raises if it fails."""
    result = subprocess.run(  # noqa: S603 - a fixed program with our own arguments
        [espeak, "-v", voice, "-q", "-x", "--ipa", text],
        check=True,
        timeout=_TIMEOUT_S,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def voice_problem(espeak: str, voice: str) -> str | None:
    """Why ``voice`` would not say a call in Mandarin; None when it would."""
    try:
        said = phonemes(espeak, voice, spoken_text(SAMPLE_CALL))
    except subprocess.CalledProcessError as err:
        detail = (err.stderr or "").strip().splitlines()
        return f"espeak-ng -v {voice} failed ({detail[0] if detail else f'exit {err.returncode}'})"
    except (OSError, subprocess.SubprocessError) as err:
        return f"espeak-ng -v {voice} could not run ({err})"
    if not said:
        return f"espeak-ng -v {voice} produced no speech"
    switch = _LANGUAGE_SWITCH.search(said)
    if switch:
        return f"espeak-ng's {voice} voice reads Chinese partly as {switch.group(0)} (phonemes: {said})"
    return None


def choose_voice(espeak: str | None, voices: Sequence[str] = VOICES) -> tuple[str | None, str]:
    """(the voice to use, why) — (None, why not) when no voice speaks Mandarin here."""
    if espeak is None:
        return None, "espeak-ng is not installed (Debian: apt-get install espeak-ng)"
    problems = []
    for voice in voices:
        problem = voice_problem(espeak, voice)
        if problem is None:
            return voice, f"espeak-ng voice {voice}"
        problems.append(problem)
    return None, "; ".join(problems)


class Announcer:
    """Says calls. ``espeak`` is the program to look for (a name on PATH or a path)."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        out_dir: Path | None = None,
        voices: Sequence[str] = VOICES,
        max_files: int | None = None,
        espeak: str = "espeak-ng",
        speed_wpm: int = 140,
    ) -> None:
        self.enabled = enabled
        self._out_dir = out_dir
        self._max_files = max_files
        self._written = 0
        self._speed = speed_wpm
        self._lock = threading.Lock()
        self._told: set[str] = set()
        self._espeak = shutil.which(espeak)
        self.voice: str | None = None
        self.why = "voice calls are turned off (hall.voice = false)"
        if enabled:
            self.voice, self.why = choose_voice(self._espeak, voices)
            if self.voice:
                log.info("voice calls in Mandarin with %s", self.why)
            else:
                self._tell(f"voice calls fall back to a chime: {self.why}")
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)

    @property
    def uses_speech(self) -> bool:
        return self.voice is not None

    def phonemes(self, text: str) -> str:
        """What a call would sound like (IPA), for checks and tests; needs a working voice."""
        if self._espeak is None or self.voice is None:
            raise RuntimeError(f"no Mandarin voice: {self.why}")
        return phonemes(self._espeak, self.voice, spoken_text(text))

    def announce(self, text: str) -> Path | None:
        """Say ``text`` (or chime). Never raises: a silent hall is better than a stopped one."""
        if not self.enabled:
            return None
        with self._lock:
            try:
                return self._announce(text)
            except (OSError, subprocess.SubprocessError) as err:
                self._tell(f"voice call failed: {err}")
                return None

    def _tell(self, message: str) -> None:
        """Log a fallback once, not on every call of a busy day."""
        if message not in self._told:
            self._told.add(message)
            log.warning("%s", message)

    def _announce(self, text: str) -> Path | None:
        if self._out_dir and self._max_files is not None and self._written >= self._max_files:
            return None
        target = None
        if self._out_dir:
            self._written += 1
            target = self._out_dir / f"call-{self._written:03d}.wav"
        if self._espeak and self.voice:
            command = [self._espeak, "-v", self.voice, "-s", str(self._speed)]
            if target:
                command += ["-w", str(target)]
            try:
                subprocess.run(  # noqa: S603 - a fixed program with our own arguments
                    [*command, spoken_text(text)],
                    check=True,
                    timeout=_TIMEOUT_S,
                    capture_output=True,
                )
                return target
            except (OSError, subprocess.SubprocessError) as err:
                self._tell(f"espeak-ng failed ({err}); this call is a chime")
        return self._chime(target)

    def _chime(self, target: Path | None) -> Path | None:
        if target:
            return chime_wav(target)
        player = shutil.which("aplay")
        if player is None:
            self._tell("no audio player (aplay, Debian alsa-utils) for the chime: calls are silent")
            return None
        chime = chime_wav(Path("/tmp") / "servicehall-chime.wav")  # noqa: S108 - a fixed, harmless sound file
        subprocess.run([player, "-q", str(chime)], check=False, timeout=5)  # noqa: S603
        return None
