"""Progress with rate and ETA in a job's log (its stderr), for the long steps."""

from __future__ import annotations


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, unit: str, enabled: bool = True):
    """A tqdm bar on stderr (the rule's log), or a silent stand-in when disabled."""
    if not enabled or total <= 0:
        return _NoBar()
    from tqdm import tqdm

    # mininterval keeps log files short while still showing rate and ETA
    return tqdm(total=total, unit=unit, mininterval=5.0, desc=desc)
