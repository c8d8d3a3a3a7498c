"""Atomic output folders: all or nothing, and never over someone else's files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from custlens.errors import OutputError
from custlens.exports import atomic_dir, check_output_dir, segment_slug


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Can't Lose Them", "cant_lose_them"),
        ("Champions", "champions"),
        ("About To Sleep", "about_to_sleep"),
        ("  ", "segment"),
    ],
)
def test_segment_slug(name: str, slug: str) -> None:
    assert segment_slug(name) == slug


def test_atomic_dir_success_replaces_previous_run(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("first")
        (tmp / "run.json").write_text(json.dumps({"tool": "custlens"}))
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("second")
        (tmp / "run.json").write_text(json.dumps({"tool": "custlens"}))
    assert sorted(p.name for p in target.iterdir()) == ["b.txt", "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"], "no temporary folders left behind"


def test_atomic_dir_failure_leaves_previous_state(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with atomic_dir(target) as tmp:
        (tmp / "run.json").write_text(json.dumps({"tool": "custlens"}))
        (tmp / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.txt").write_text("half written")
        raise RuntimeError("disk full")
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt", "run.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_failure_on_new_target_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new"
    with pytest.raises(ValueError), atomic_dir(target):
        raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_foreign_folder_refused_unless_forced(tmp_path: Path) -> None:
    target = tmp_path / "docs"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="--force"):
        check_output_dir(target)
    assert check_output_dir(target, force=True) == target.resolve()


def test_folder_with_foreign_run_json_is_not_ours(tmp_path: Path) -> None:
    target = tmp_path / "other"
    target.mkdir()
    (target / "run.json").write_text(json.dumps({"tool": "something-else"}))
    with pytest.raises(OutputError):
        check_output_dir(target)


def test_output_path_is_a_file(tmp_path: Path) -> None:
    f = tmp_path / "f.txt"
    f.write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        check_output_dir(f)
    with pytest.raises(OutputError, match="Cannot create"):
        check_output_dir(f / "sub")
