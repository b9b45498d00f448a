"""The warm worker: runs inside the sandbox and executes one attempt per fork.

Started by the host's pool as ``python -I <this folder>`` (``__main__.py``) in a bwrap
sandbox, an Apptainer or Docker image, or unconfined (engine ``none``). It imports nothing
from kodcode, only the standard library, pytest and coverage, because inside an image only
the test environment exists. It never decides a verdict: it forwards an attempt's raw
report, exit status and output, and the host decides (``verdict.py``).

Modules, in the order a request meets them:

* ``frames``: length-prefixed JSON frames and the protocol number (the host imports it too)
* ``serve``: start-up, hello, and the request loop
* ``warmup``: throw-away pytest sessions before the hello
* ``zygote``: the second warm process, for attempts that import the big packages
* ``attempt``: one attempt's processes, rlimits and clean state (``AttemptRunner``)
* ``isolation``: per-attempt namespaces, private mounts, no capabilities
* ``linux``: the system calls behind them (prctl, mount, capset, clone)
* ``pytest_runner``: one pytest run; ``pytest_session`` (the session set up once),
  ``pytest_plugins`` (reporter, canaries), ``pytest_speedups``, ``measure`` (coverage)
* ``stdio_runner``: stdin/stdout cases; ``events``: the report lines both runners write
* ``supervise``: wall limit, output excerpt, the reply
* ``environment``: the clean environment (the host starts workers with it too)

This file imports nothing: the host imports ``kodcode.executor.worker.frames`` without
loading the rest, and inside the sandbox the folder is the package ``_kodcode_worker``.
"""
