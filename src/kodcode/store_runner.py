"""Serve a batch through the content store: look up each key, run the misses, and store
each result the moment it is known.

LLM responses (``llm/client.py``) and test verdicts (``executor/service.py``) both run
through :class:`StoreRunner`, so both keep every result a killed job had finished, and a
store that vanishes or fills up mid-run stops both with one :class:`StoreError` line.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Sequence, TypeVar

from .store import ContentStore, StoreError

T = TypeVar("T")  # what is run: a request, an attempt
R = TypeVar("R")  # what it produces: a response, a verdict

Deliver = Callable[[T, R], None]


@dataclass
class Batch(Generic[T, R]):
    keys: list[str]  # one per item, in the items' order
    results: dict[str, R]  # key -> result: the stored ones, then each one as it arrives
    misses: list[T]  # one item per key the store did not have
    hits: int  # distinct keys served from the store
    _miss_keys: dict[int, str] = field(default_factory=dict, repr=False)  # id(miss) -> key


class StoreWriter:
    """Writes store records on one background thread, in arrival order.

    Creating a file costs a few tenths of a millisecond on a local disk and a network
    round trip on NFS; done on the request path it would stall the event loop that is
    reading other responses. ``close`` waits until every record handed over is written
    (also when the run stops with an error) and re-raises the first write error; ``put``
    raises it too once it happened, so the run stops at the next result.
    """

    def __init__(self, store: ContentStore) -> None:
        self.store = store
        self.error: BaseException | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._drain, name="store-writer", daemon=True)
        self._thread.start()

    def put(self, key: str, record: dict[str, Any]) -> None:
        if self.error is not None:
            raise self.error
        self._queue.put((key, record))

    def _drain(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self.store.put(*item)
            except BaseException as exc:  # noqa: BLE001 - reported by put/close
                if self.error is None:
                    self.error = exc

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


@dataclass
class StoreRunner(Generic[T, R]):
    """``store`` None runs everything and stores nothing (duplicates still run once)."""

    store: ContentStore | None
    key_of: Callable[[T], str]
    load: Callable[[dict[str, Any]], R]  # a stored record -> its result
    save: Callable[[T, R], dict[str, Any] | None]  # a result -> its record; None keeps it out (a failure)
    background_writes: bool = False  # hand records to a writer thread (for callers on an event loop)

    def lookup(self, items: Sequence[T]) -> Batch[T, R]:
        """Each distinct key once: the stored results, and the items still to run."""
        keys = [self.key_of(item) for item in items]
        batch: Batch[T, R] = Batch(keys, {}, [], 0)
        seen: set[str] = set()
        for item, key in zip(items, keys):
            if key in seen:
                continue
            seen.add(key)
            if not self._load(key, batch):
                batch.misses.append(item)
                batch._miss_keys[id(item)] = key
        batch.hits = len(batch.results)
        return batch

    def _load(self, key: str, batch: Batch[T, R]) -> bool:
        rec = self.store.get(key) if self.store is not None else None
        if rec is None:
            return False
        try:
            batch.results[key] = self.load(rec)
            return True
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # intact but not in the shape this code reads: most likely another kodcode
            # version wrote it, so stop rather than move aside (and pay again for) a whole store
            where = self.store.location(key) if hasattr(self.store, "location") else self.store.path_for(key)
            raise StoreError(f"store record {key} ({where}) is intact but this kodcode cannot read it "
                             f"({type(exc).__name__}: {exc}); was it written by another version? Run the version "
                             "that wrote it, or point 'store' at a separate folder for this version") from None

    def run(self, batch: Batch[T, R], execute: Callable[[list[T], Deliver], None],
            on_result: Deliver | None = None) -> None:
        """Run ``batch.misses`` with ``execute(misses, deliver)``, which calls
        ``deliver(item, result)`` as each result is known (from any thread). Each result
        is stored on arrival, then passed to ``on_result``. Returns, or re-raises what
        ``execute`` raised, only once every record handed over is written; a failed
        write raises StoreError, in place of whatever it caused."""
        if not batch.misses:
            return
        writer: StoreWriter | ContentStore | None = None
        if self.store is not None:
            self.store.ensure_folders()  # from here on, a missing folder means the store went away
            writer = StoreWriter(self.store) if self.background_writes else self.store
        lock = threading.Lock()

        def deliver(item: T, result: R) -> None:
            key = batch._miss_keys.get(id(item)) or self.key_of(item)
            record = self.save(item, result) if writer is not None else None
            if record is not None:
                writer.put(key, record)
            with lock:
                batch.results[key] = result
                if on_result is not None:
                    on_result(item, result)

        try:
            execute(batch.misses, deliver)
        except StoreError:
            _close(writer, quiet=True)
            raise
        except BaseException as exc:
            try:
                _close(writer)
            except StoreError as store_exc:
                raise store_exc from exc
            raise
        _close(writer)


def _close(writer: StoreWriter | ContentStore | None, quiet: bool = False) -> None:
    """Wait for the writes, then publish them, so that other jobs see this batch's results at once."""
    store = writer.store if isinstance(writer, StoreWriter) else writer
    try:
        if isinstance(writer, StoreWriter):
            writer.close()
        flush = getattr(store, "flush", None)
        if flush is not None:
            flush()
    except StoreError:
        if not quiet:
            raise
