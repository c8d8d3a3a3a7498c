"""skops + manifest round trip, and every refusal: tampered file, unknown type, version and
schema mismatch."""

from __future__ import annotations

import collections
import hashlib
import json

import pandas as pd
import pytest
import skops.io as sio

from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import MappingError, ModelError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.backtest import customer_features
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
