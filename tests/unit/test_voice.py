"""The voice call: Mandarin people understand, or a chime and one plain line in the log saying why."""

from __future__ import annotations

import array
import logging
import re
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from servicehall.hall.voice import Announcer

ESPEAK = shutil.which("espeak-ng")
needs_espeak = pytest.mark.skipif(
    ESPEAK is None, reason="espeak-ng is not installed (Debian: apt-get install espeak-ng)"
)

# A stand-in for espeak-ng at the test's edge: "cmn" reads Chinese as English (as espeak-ng
# 1.51's does), "cmn-latn-pinyin" is missing or good as the test chooses; -w records the text.
FAKE_ESPEAK = """#!{python}
import sys
args = sys.argv[1:]
voice = args[args.index("-v") + 1]
if voice == "cmn":
    print("(en)kɪ5ŋθɹˈiː5(cmn) ˈei5")
    sys.exit(0)
if {pinyin_voice_missing}:
    print("Error: voice does not exist", file=sys.stderr)
    sys.exit(1)
if "--ipa" in args:
    print("tɕhˈi2ŋ ˈei5 lˈiɜŋ")
elif "-w" in args:
    open(args[args.index("-w") + 1], "w", encoding="utf-8").write(args[-1])
"""


def fake_espeak(tmp_path: Path, *, pinyin_voice_missing: bool) -> str:
    path = tmp_path / "fake-espeak-ng"
    path.write_text(
        FAKE_ESPEAK.format(python=sys.executable, pinyin_voice_missing=pinyin_voice_missing),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return str(path)


def fallbacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def is_chime(path: Path) -> bool:
    with wave.open(str(path)) as wav:
        rate, frames = int(wav.getframerate()), int(wav.getnframes())
    return rate == 16000 and frames == int(16000 * 0.35) + int(16000 * 0.55)


@pytest.mark.unit
def test_without_espeak_calls_are_chimes_and_the_log_says_why_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    announcer = Announcer(out_dir=tmp_path, espeak="no-such-espeak-ng")
    first = announcer.announce("请 A001 号到 1 号窗口")
    second = announcer.announce("请 A002 号到 2 号窗口")
    assert first and second and is_chime(first) and is_chime(second)
    assert not announcer.uses_speech
    said = fallbacks(caplog)
    assert len(said) == 1 and "chime" in said[0] and "espeak-ng is not installed" in said[0]


@pytest.mark.unit
def test_a_voice_that_reads_chinese_as_english_is_never_used(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    espeak = fake_espeak(tmp_path, pinyin_voice_missing=True)
    announcer = Announcer(out_dir=tmp_path / "out", espeak=espeak)
    assert announcer.voice is None
    call = announcer.announce("请 A001 号到 1 号窗口")
    assert call and is_chime(call)
    said = fallbacks(caplog)
    assert len(said) == 1 and "chime" in said[0]
    assert "cmn voice reads Chinese partly as (en)" in said[0]  # why, plainly
    assert "cmn-latn-pinyin failed (Error: voice does not exist)" in said[0]


@pytest.mark.unit
def test_the_engine_is_given_the_spoken_text_in_a_voice_that_speaks_mandarin(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    espeak = fake_espeak(tmp_path, pinyin_voice_missing=False)
    announcer = Announcer(out_dir=tmp_path / "out", espeak=espeak)
    assert announcer.voice == "cmn-latn-pinyin"
    call = announcer.announce("请 A023 号到 12 号窗口")
    assert call and call.read_text(encoding="utf-8") == "请 A 零二三 号到 十二 号窗口"
    assert fallbacks(caplog) == []


@pytest.mark.unit
def test_a_turned_off_voice_says_nothing_and_runs_nothing(tmp_path: Path) -> None:
    announcer = Announcer(enabled=False, out_dir=tmp_path, espeak="no-such-espeak-ng")
    assert announcer.announce("请 A001 号到 1 号窗口") is None
    assert list(tmp_path.iterdir()) == []


def espeak_ipa(voice: str, text: str) -> str:
    assert ESPEAK is not None
    return subprocess.run(
        [ESPEAK, "-v", voice, "-q", "-x", "--ipa", text],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.mark.integration
@needs_espeak
def test_a_call_is_said_in_mandarin_by_the_real_espeak_ng(tmp_path: Path) -> None:
    announcer = Announcer(out_dir=tmp_path)
    assert announcer.voice is not None, announcer.why
    said = announcer.phonemes("请 A023 号到 12 号窗口")
    # No switch to another language: nothing is read in English.
    assert not re.search(r"\((?!cmn\))[a-z-]+\)", said), said
    # English letter names and digits would show as these phonemes.
    for english in ("wʌn", "tuː", "θɹiː", "zɪəɹ", "eɪ", "fɔː"):
        assert english not in said, (english, said)
    # Exactly what espeak-ng says for the call written out in characters by hand.
    assert said == espeak_ipa(announcer.voice, "请 A 零二三 号到 十二 号窗口")
    # The ticket digits one by one, and A as Chinese speakers say it (ēi), not 二十三.
    assert espeak_ipa(announcer.voice, "零二三") in said
    assert espeak_ipa(announcer.voice, "A") == "ˈei5"
    assert espeak_ipa(announcer.voice, "二十三") not in said


@pytest.mark.integration
@needs_espeak
def test_the_real_espeak_ng_writes_a_spoken_call(tmp_path: Path) -> None:
    announcer = Announcer(out_dir=tmp_path)
    call = announcer.announce("请 A023 号到 3 号窗口")
    assert call is not None and not is_chime(call)
    with wave.open(str(call)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    loudest = max(abs(s) for s in samples)
    # Ten syllables at 140 words a minute: a few seconds of sound, not silence.
    assert 1.5 < seconds < 8 and loudest > 3000
