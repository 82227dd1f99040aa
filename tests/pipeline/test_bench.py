"""``dhanvantri bench voice``: bad input, and one real turn through the whole pipeline."""

from __future__ import annotations

import json
import wave

import pytest

from dhanvantri.cli import main


def test_bad_audio_is_a_usage_error(tmp_path, capsys) -> None:
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(b"\0\0\0\0" * 100)
    assert main(["bench", "voice", "--audio", str(stereo), "--json"]) == 2
    assert "16-bit mono 16000 Hz" in capsys.readouterr().err
    assert main(["bench", "voice", "--audio", str(tmp_path / "missing.wav")]) == 2


def test_missing_audio_argument_exits_2() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "voice", "--json"])
    assert exit_info.value.code == 2


@pytest.mark.models
def test_one_turn_gives_transcript_spoken_reply_and_timings(
    speech_file, tmp_path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("DHANVANTRI_DATA_DIR", str(tmp_path / "data"))
    clip = speech_file("I have a headache since yesterday morning.")
    code = main(
        [
            "bench",
            "voice",
            "--audio",
            str(clip),
            "--json",
            "--save-audio",
            str(tmp_path / "replies"),
        ]
    )
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout is exactly the JSON
    assert code == 0
    turn = result["turns"][0]
    assert "headache" in turn["transcript"].lower()
    assert turn["reply_text"] and turn["escalated"] is False
    ms = turn["ms"]
    assert set(ms) == {
        "turn_end",
        "stt_final",
        "llm_first_token",
        "tts_first_audio",
        "voice_to_voice",
    }
    assert ms["stt_final"] <= ms["llm_first_token"] <= ms["voice_to_voice"]
    assert result["summary"]["voice_to_voice_p50"] == ms["voice_to_voice"]
    assert {"stt", "tts", "phi", "knowledge", "llm", "total"} <= set(result["model_load_s"])
    saved = list((tmp_path / "replies").glob("*.wav"))
    assert len(saved) == 1
    with wave.open(str(saved[0])) as wav:
        assert wav.getnframes() / wav.getframerate() > 0.5  # a real spoken reply
