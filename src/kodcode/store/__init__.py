"""A content-addressed store of slow or paid results (LLM responses, test verdicts), built to
hold tens of millions of records in a few thousand files.

Records live in append-only **segment** files under ``root/namespace/segments/``, compressed
(zlib) and each with its own checksums. Every writing process appends only to segment files
it created under a name unique to its host, pid and a random part, so no two processes ever
write one file and no lock (or lock server) is needed, on NFS too. ``put`` returns once the
record is written into the segment, so a killed process loses nothing it acknowledged.
Published records (a writer publishes its own every few seconds, and at the end of each batch)
are fsynced and survive a power loss; with ``KODCODE_STORE_FSYNC=1`` every put is fsynced, so
nothing acknowledged is lost to one either (see docs/store.md).

Records become visible to other processes when they are **published**: a numbered entry in
``root/namespace/log/`` lists them, and numbers are taken with an exclusive hard link, so all
readers see one order. The first record of a key in that order is the key's record (first
writer wins); a reader only returns published records, so once any reader has returned a
record, no read anywhere returns another. **Checkpoints** (``checkpoints/``) fold the log into
one index sorted by key, read a 3 KB block per look-up, plus the counts ``stats`` reports;
readers replay only the log after the newest one. A miss re-reads the log and, at most once a
second, publishes records other writers appended but had not published yet (such as those of a
killed writer).

A record that fails its checksum is skipped, copied to ``root/quarantine/<namespace>/`` with a
warning, and reads as absent, so the run asks for it again instead of stopping. A store that
disappears or cannot be written during a run raises :class:`StoreError` (one line naming the
store and what to do) rather than dropping paid results.

Stores of the earlier layout (one JSON file per record under ``root/namespace/ab/<key>.json``)
are read as before; :func:`migrate` packs them. ``get`` returns exactly the dict that was put.

The store lives outside Snakemake's outputs on purpose: a failed job must not delete
responses that were paid for.
"""

from .content import QUARANTINE, ContentStore, Damage, ImportCounts, VerifyReport, exit_on_store_error, read_archive
from .migration import MigrateCounts, legacy_namespaces, migrate
from .fsutil import STALE_TEMP_S
from .packed import Options
from .records import CHECKSUM_KEY, DamagedRecord, StoreError, decode_record, encode_record

__all__ = [
    "CHECKSUM_KEY", "QUARANTINE", "STALE_TEMP_S", "ContentStore", "Damage", "DamagedRecord", "ImportCounts",
    "MigrateCounts", "Options", "StoreError", "VerifyReport", "decode_record", "encode_record",
    "exit_on_store_error", "legacy_namespaces", "migrate", "read_archive",
]
