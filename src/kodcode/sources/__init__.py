"""Seed acquisition: fetch each subset's public source into a download cache, verify it, and
turn it into the subset's ``seeds.jsonl``.

Modules, in the order data flows through them:

* :mod:`.spec`    what the config says about each subset's source (dataclasses, defaults, cache keys)
* :mod:`.cache`   atomic downloads and manifests in ``cache_dir``
* :mod:`.github`  commit/tag tarballs from codeload, and reading a tree (tarball or folder)
* :mod:`.hf`      Hugging Face dataset snapshots at a revision, read back with ``datasets``
* :mod:`.convert` raw rows/files -> seed rows, one function per kind of seed
* :mod:`.build`   the two rule entry points: :func:`.build.fetch_unit` and :func:`.build.build_seeds`
"""

from .errors import SourceError

__all__ = ["SourceError"]
