"""Voice-to-voice latency of the full pipeline; the same as ``dhanvantri bench voice``.

.venv/bin/python benchmarks/make_speech.py benchmarks/out/speech
.venv/bin/python benchmarks/voice_latency.py --audio benchmarks/out/speech/fever.wav --runs 3 --json
"""

import sys

from dhanvantri.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "voice", *sys.argv[1:]]))
