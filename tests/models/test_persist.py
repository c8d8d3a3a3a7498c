"""skops + manifest round trip, every refusal (tampered file, unknown type, version and schema
mismatch), atomic saving (a failure at any step leaves the old folder intact) and file modes."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import stat

import pandas as pd
import pytest
import skops.io as sio

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import MappingError, ModelError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models import persist
from custlens.models.model_rows import customer_features
from custlens.models.persist import load_models, save_models
from custlens.models.scoring import fit_final, score_new


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    data = synthetic(600, seed=4)
    c = clean(load(data.orders).table, CleaningConfig())
    models, scores = fit_final(c.purchases, c.returns, config=ModelsConfig(n_estimators=30))
    frame, _ = customer_features(c.purchases, c.returns, models.as_of, models.config)
    folder = tmp_path_factory.mktemp("m") / "models"
    save_models(models, folder)
    return models, scores, frame, folder


def _copy(folder, tmp_path):
    import shutil

    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def test_round_trip_gives_identical_predictions(fitted):
    models, scores, frame, folder = fitted
    loaded = load_models(folder)
    pd.testing.assert_frame_equal(score_new(loaded, frame), scores)
    manifest = json.loads((folder / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert [f["name"] for f in manifest["features"]] == list(models.feature_names)
    assert manifest["horizon_days"] == 90 and manifest["as_of"] == models.as_of.isoformat()


def test_tampered_file_is_refused(fitted, tmp_path):
    folder = _copy(fitted[3], tmp_path)
    path = folder / "clv.skops"
    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="modified"):
        load_models(folder)


def test_unknown_type_is_refused_even_with_a_matching_hash(fitted, tmp_path):
    folder = _copy(fitted[3], tmp_path)
    sio.dump({"model": collections.Counter("abc")}, folder / "clv.skops")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"]["clv.skops"] = hashlib.sha256((folder / "clv.skops").read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="does not trust.*collections.Counter"):
        load_models(folder)


@pytest.mark.parametrize("package", ["custlens", "lightgbm"])
def test_version_mismatch_is_refused(fitted, tmp_path, package):
    folder = _copy(fitted[3], tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["versions"][package] = "0.0.1"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=f"saved with {package} 0.0.1"):
        load_models(folder)


def test_schema_mismatch_and_missing_folder_are_refused(fitted, tmp_path):
    models, _, frame, folder = fitted
    loaded = load_models(folder)
    dropped = models.feature_names[5]
    with pytest.raises(MappingError, match=f"lack the column\\(s\\) {dropped}\\."):
        score_new(loaded, frame.drop(columns=[dropped]))
    bad = frame.copy()
    bad[models.feature_names[0]] = "x"
    with pytest.raises(ModelError, match="not numeric"):
        score_new(loaded, bad)
    with pytest.raises(ModelError, match="not a custlens model folder"):
        load_models(tmp_path)


# ----------------------------------------------------------------------------- atomic saving
def _snapshot(folder):
    """Every file of ``folder`` with its bytes (the folder holds no subfolders)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _assert_old_models_intact(fitted, target, before):
    _, scores, frame, _ = fitted
    assert _snapshot(target) == before
    pd.testing.assert_frame_equal(score_new(load_models(target), frame), scores)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # nothing left over


def _changed(models):
    """The same models with another seed in the manifest, so a save changes the folder."""
    import dataclasses

    return dataclasses.replace(models, seed=models.seed + 1)


def test_failure_while_writing_leaves_the_old_models_intact(fitted, tmp_path, monkeypatch):
    target = _copy(fitted[3], tmp_path)
    before = _snapshot(target)
    real_dump, written = sio.dump, []

    def dump_then_fail(obj, path):
        real_dump(obj, path)
        written.append(path)
        if len(written) == 2:
            raise OSError("No space left on device")

    monkeypatch.setattr(sio, "dump", dump_then_fail)  # persist imports it when saving
    with pytest.raises(OSError, match="No space left"):
        save_models(_changed(fitted[0]), target)
    assert written[0].parent != target  # written elsewhere, never into the live folder
    _assert_old_models_intact(fitted, target, before)


@pytest.mark.parametrize("exchange", ["atomic", "two renames"])
def test_failure_at_the_swap_leaves_the_old_models_intact(fitted, tmp_path, monkeypatch, exchange):
    target = _copy(fitted[3], tmp_path)
    before = _snapshot(target)
    if exchange == "atomic":

        def fail(a, b):
            raise OSError("exchange failed")

        monkeypatch.setattr(persist, "_exchange", fail)
    else:  # no atomic exchange: the renames' second step (new folder into place) fails
        real_rename = os.rename

        def rename(src, dst):
            if str(src).endswith("new"):
                raise OSError("rename failed")
            real_rename(src, dst)

        monkeypatch.setattr(persist, "_exchange", lambda a, b: False)
        monkeypatch.setattr(persist.os, "rename", rename)
    with pytest.raises(OSError, match="failed"):
        save_models(_changed(fitted[0]), target)
    _assert_old_models_intact(fitted, target, before)


@pytest.mark.parametrize("exchange", [True, False])
def test_save_replaces_an_old_model_folder(fitted, tmp_path, monkeypatch, exchange):
    models, _, _, folder = fitted
    target = _copy(folder, tmp_path)
    if not exchange:
        monkeypatch.setattr(persist, "_exchange", lambda a, b: False)
    save_models(_changed(models), target)
    assert json.loads((target / "manifest.json").read_text())["seed"] == models.seed + 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


@pytest.mark.parametrize(
    ("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o077, 0o700, 0o600)]
)
def test_saved_folder_and_files_respect_the_umask(fitted, tmp_path, umask, folder_mode, file_mode):
    models, _, _, folder = fitted
    replaced = _copy(folder, tmp_path)
    previous = os.umask(umask)
    try:
        saved = [save_models(models, tmp_path / "new" / "models"), save_models(models, replaced)]
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == folder_mode
    for target in saved:
        assert stat.S_IMODE(target.stat().st_mode) == folder_mode
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in target.iterdir()}
        assert set(modes) == {
            "churn.skops",
            "clv.skops",
            "next_purchase.skops",
            "maps.skops",
            "manifest.json",
        }
        assert set(modes.values()) == {file_mode}
