"""Exit 0 if llama-cpp-python can serve the embedded model on this CPU.

It generates one token and imports the OpenAI-compatible server that the product runs
(``python -m llama_cpp.server``), so a build that leaves out something the server needs fails
here and not at the first consultation.
"""

import subprocess
import sys

CODE = """
import llama_cpp
import llama_cpp.server.app
from dhanvantri.models import smollm2_path
llm = llama_cpp.Llama(model_path=str(smollm2_path()), n_ctx=64, n_threads=1, verbose=False)
llm("Hi", max_tokens=1)
"""

# A child process: an illegal instruction kills it, not this check.
sys.exit(0 if subprocess.run([sys.executable, "-c", CODE]).returncode == 0 else 1)
