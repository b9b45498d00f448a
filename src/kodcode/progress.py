"""Progress with rate and ETA in a job's log (its stderr), for the long steps."""

from __future__ import annotations

# seconds between two updates of a bar: a log file gets a line every few seconds, not hundreds
LOG_INTERVAL = 5.0


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int | None, desc: str, unit: str, enabled: bool = True):
    """A tqdm bar on stderr (the rule's log), or a silent stand-in when disabled or when there
    is nothing to do. ``total=None``: an unknown size, shown as a count and a rate (no ETA)."""
    if not enabled or (total is not None and total <= 0):
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, unit_scale=unit == "B", mininterval=LOG_INTERVAL, desc=desc)


def log_tqdm() -> type:
    """A tqdm class with the log pace, for libraries that take one (huggingface_hub)."""
    from tqdm import tqdm

    class LogTqdm(tqdm):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("mininterval", LOG_INTERVAL)
            super().__init__(*args, **kwargs)

    return LogTqdm
