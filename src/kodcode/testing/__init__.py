"""Test support shipped with the package: stand-ins for outside services that the test suite
and ``bench/`` start (``python -m kodcode.testing.fake_openai``). Nothing in the workflow
imports it."""
