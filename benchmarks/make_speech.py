"""Make the patient speech the voice benchmarks replay: espeak-ng + sox, 16 kHz mono WAV.

    .venv/bin/python benchmarks/make_speech.py benchmarks/out/speech
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

SENTENCES = {
    "fever": "I have had a fever and a dry cough for three days.",
    "headache": "I have a headache since yesterday morning.",
    "loose_motions": "My child has loose motions since last night.",
    "sore_throat": "I have a sore throat and a runny nose.",
    "back_pain": "The pain is in my lower back and it started two weeks ago.",
    "allergy": "No, I am not allergic to anything.",
}


def make(folder: Path, name: str, text: str, speed: int = 140, voice: str = "en-us",
         quiet: bool = False) -> Path:
    """Speak ``text`` into ``folder/name.wav`` with espeak-ng's ``voice`` (an accent); ``quiet``
    keeps sox's clipping warnings (a few samples at the resampling) off stderr."""
    folder.mkdir(parents=True, exist_ok=True)
    raw, target = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(raw), text], check=True)
    # Trim espeak's leading and trailing silence: the benchmark measures from the end of the
    # file, which must be the last speech sample.
    subprocess.run(["sox", *(["-V1"] if quiet else []), str(raw), "-r", "16000", "-c", "1",
                    "-b", "16", str(target), "silence", "1", "0.02", "0.5%", "reverse",
                    "silence", "1", "0.02", "0.5%", "reverse"], check=True)
    raw.unlink()
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        print("espeak-ng and sox are needed (apt-get install espeak-ng sox)", file=sys.stderr)
        return 2
    for name, text in SENTENCES.items():
        print(make(args.folder, name, text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
