"""``dhanvantri redact``: JSON lines in, JSON lines out, exit 2 on bad lines."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from dhanvantri.cli import main
from dhanvantri.privacy.cli import redact_stream


def test_redact_stream_good_and_bad_lines(detector) -> None:
    lines = [
        json.dumps({"text": "this is rajesh kumar calling, number 98765 43210"}),
        "not json at all",
        json.dumps({"txt": "missing"}),
        json.dumps({"text": 5}),
        "",
        json.dumps({"text": "sugar 180 for 3 days"}),
    ]
    out, err = io.StringIO(), io.StringIO()
    code = redact_stream(io.StringIO("\n".join(lines) + "\n"), out, err, detector=detector)
    assert code == 2
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(records) == 2
    first = records[0]
    assert first["redacted"] == "this is <PERSON_1> calling, number <PHONE_1>"
    assert first["entities"][0] == {
        "type": "PERSON",
        "start": 8,
        "end": 20,
        "token": "<PERSON_1>",
        "score": 0.85,
    }
    assert records[1]["entities"] == [] and records[1]["redacted"] == "sugar 180 for 3 days"
    messages = err.getvalue().splitlines()
    assert [m.split(":")[1].strip() for m in messages] == ["line 2", "line 3", "line 4"]
    assert 'missing field "text"' in messages[1] and "must be a string" in messages[2]
    assert "not json at all" not in err.getvalue()  # bad input is described, not echoed


def test_main_exit_codes(monkeypatch, capsys, detector) -> None:
    monkeypatch.setattr("dhanvantri.privacy.detector.PhiDetector", lambda **_: detector)
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"text": "call 9876543210"}\n'))
    assert main(["redact"]) == 0
    assert json.loads(capsys.readouterr().out)["redacted"] == "call <PHONE_1>"


def test_console_command_with_bad_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "dhanvantri.cli", "redact"],
        input='[1, 2]\n{"text": "mail me at rajesh.k@gmail.com"}\n',
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert json.loads(proc.stdout)["redacted"] == "mail me at <EMAIL_1>"
    assert "line 1" in proc.stderr
