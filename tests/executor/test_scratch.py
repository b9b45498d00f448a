"""The plain-mode clean-up of a container's scratch places (worker/scratch.py), on real folders."""

from __future__ import annotations

import os

from kodcode.executor.worker import scratch


def test_what_an_attempt_adds_or_changes_goes_and_the_rest_stays(tmp_path):
    base, shm = tmp_path / "tmp", tmp_path / "shm"
    (base / "mpl").mkdir(parents=True)
    (base / "mpl" / "fontlist.json").write_text("{}")
    (base / "keep.txt").write_text("worker's own")
    attempt = base / "attempt-1"
    attempt.mkdir()
    shm.mkdir()
    recorded = scratch.snapshot([str(base), str(shm)])

    # what an attempt leaves: new files and folders, a changed file, a file inside a kept folder
    (attempt / "solution.py").write_text("x")
    (base / "planted_module_kc.py").write_text("X = 1")
    (base / "deep" / "er").mkdir(parents=True)
    (base / "deep" / "er" / "f").write_text("x")
    (shm / "planted").write_text("x")
    (base / "keep.txt").write_text("changed by an attempt")
    (base / "mpl" / "extra").write_text("x")
    os.symlink("/etc/passwd", base / "link")

    removed = scratch.restore([str(base), str(shm)], recorded, str(attempt))
    assert removed >= 5
    assert sorted(os.listdir(base)) == ["attempt-1"]  # keep.txt changed, mpl's folder changed: both gone
    assert os.listdir(shm) == []
    assert (attempt / "solution.py").exists()  # the attempt folder is its owner's to empty
    assert os.path.exists("/etc/passwd")  # a link is removed, not followed


def test_nothing_changed_nothing_removed(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "b").write_text("x")
    recorded = scratch.snapshot([str(tmp_path)])
    assert scratch.restore([str(tmp_path)], recorded, str(tmp_path / "none")) == 0
    assert (tmp_path / "a" / "b").read_text() == "x"
