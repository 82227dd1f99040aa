"""Tools the tests and benchmarks share, one of each.

- ``waiting``: ``wait_until`` (and its async twin), the one way a test waits for something.
- ``server``: the full server in a thread of this process, or in a child process, on a free
  loopback port.
- ``patient``: a patient on the WebSocket transport that speaks at real-time pace and records
  what comes back.
- ``llm``: ``ScriptedLLM``, the language-model stand-in that says what the test tells it to.
- ``ice``: let aioice offer loopback, for peers on this machine.
- ``browser``: the system Chromium and waiting on what a page shows.
"""
