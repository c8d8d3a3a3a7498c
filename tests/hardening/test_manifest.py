"""Edited or damaged model folders are refused with a ModelError before any model is loaded;
saved models are byte-identical when saved twice."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import skops.io as sio
from typer.testing import CliRunner

from custlens.cli import app
from custlens.config import CleaningConfig, ModelsConfig
from custlens.datasets.synthetic import synthetic
from custlens.errors import ModelError
from custlens.io.clean import clean
from custlens.io.load import load
from custlens.models.persist import load_models, save_models
from custlens.models.scoring import fit_final


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[object, Path]:
    data = synthetic(500, seed=4)
    c = clean(load(data.orders).table, CleaningConfig())
    models, _ = fit_final(c.purchases, c.returns, config=ModelsConfig(n_estimators=20))
    folder = tmp_path_factory.mktemp("m") / "models"
    save_models(models, folder)
    return models, folder


def _copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(folder, target)
    return target


def _rehash(folder: Path, name: str) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _set(path: tuple[str, ...], value) -> Callable[[dict], None]:
    def edit(manifest: dict) -> None:
        node = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


EDITS: dict[str, Callable[[dict], None]] = {
    "versions as a list": _set(("versions",), ["custlens", "0.1"]),
    "settings not an object": _set(("settings",), "fast"),
    "settings out of range": _set(("settings", "learning_rate"), -3),
    "settings with an unknown key": _set(("settings", "turbo"), True),
    "threshold above 1": _set(("threshold", "value"), 7.5),
    "threshold as text": _set(("threshold", "value"), "high"),
    "threshold missing a field": lambda m: m["threshold"].pop("goal"),
    "cutoff not a date": _set(("train_cutoff",), "yesterday"),
    "cutoff as a number": _set(("train_cutoff",), 17),
    "as_of not a date": _set(("as_of",), "2024-13-45"),
    "horizon huge": _set(("horizon_days",), 10**20),
    "horizon negative": _set(("horizon_days",), -5),
    "seed negative": _set(("seed",), -1),
    "btyd parameter negative": _set(("btyd", "bgnbd", "r"), -1.0),
    "btyd parameter text": _set(("btyd", "bgnbd", "alpha"), "big"),
    "btyd as a list": _set(("btyd",), [1, 2, 3]),
    "defaults unknown scorer": _set(("defaults", "churn"), "magic"),
    "defaults as a list": _set(("defaults",), ["lightgbm"]),
    "features empty": _set(("features",), []),
    "features bad dtype": _set(("features",), [{"name": "x", "dtype": "object"}]),
    "format version 2": _set(("format_version",), 2),
    "files as a list": _set(("files",), ["churn.skops"]),
    "file outside the folder": lambda m: m["files"].update({"../outside.skops": "0" * 64}),
    "absolute file path": lambda m: m["files"].update({"/tmp/x.skops": "0" * 64}),
    "bad hash text": lambda m: m["files"].update({"churn.skops": "not-a-hash"}),
    "required file missing": lambda m: m["files"].pop("clv.skops"),
    "importance infinite": _set(("importance",), {"x": "Infinity"}),
}


@pytest.mark.parametrize("case", list(EDITS))
def test_an_edited_manifest_is_refused(case: str, saved, tmp_path: Path, monkeypatch) -> None:
    _, folder = saved
    copy = _copy(folder, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    EDITS[case](manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    opened = []
    monkeypatch.setattr(sio, "load", lambda *a, **k: opened.append(a) or {})
    with pytest.raises(ModelError, match="manifest"):
        load_models(copy)
    assert opened == []  # refused before any model file was opened


@pytest.mark.parametrize("text", ["[]", "42", "null", '"text"', "{", ""])
def test_a_manifest_that_is_not_an_object_is_refused(text: str, saved, tmp_path: Path) -> None:
    copy = _copy(saved[1], tmp_path)
    (copy / "manifest.json").write_text(text)
    with pytest.raises(ModelError):
        load_models(copy)


@pytest.mark.parametrize("content", [{}, {"model": None, "junk": 1}, [1, 2]])
def test_a_skops_file_without_a_model_is_refused(content, saved, tmp_path: Path) -> None:
    copy = _copy(saved[1], tmp_path)
    target = "maps.skops" if content == {} else "churn.skops"
    sio.dump(content, copy / target)
    _rehash(copy, target)
    with pytest.raises(ModelError):
        load_models(copy)


def test_a_garbage_lightgbm_model_string_is_refused(saved, tmp_path: Path) -> None:
    import lightgbm as lgb

    copy = _copy(saved[1], tmp_path)
    model = saved[0].churn.model_
    state = dict(model.__getstate__())  # a copy: the fitted model stays intact
    state["_Booster"] = lgb.Booster.__new__(lgb.Booster)  # a booster without a model
    broken = type(model).__new__(type(model))
    broken.__dict__.update(state)
    try:
        sio.dump({"model": broken}, copy / "churn.skops")
    except Exception:  # noqa: BLE001 - skops may refuse to write it: write a damaged archive
        (copy / "churn.skops").write_bytes(b"PK\x03\x04garbage")
    _rehash(copy, "churn.skops")
    with pytest.raises(ModelError):
        load_models(copy)


def test_score_refuses_an_edited_manifest_through_the_cli(saved, tmp_path: Path) -> None:
    copy = _copy(saved[1], tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"] = ["x"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    data = tmp_path / "new.parquet"
    synthetic(100, seed=1).orders.to_parquet(data)
    out = tmp_path / "scored"
    result = CliRunner().invoke(app, ["score", str(copy), str(data), "--out", str(out)])
    text = (result.stdout or "") + (result.stderr or "")
    assert result.exit_code == 2, text + repr(result.exception)
    assert "versions" in text and "Traceback" not in text
    assert not out.exists()


def test_saving_the_same_models_twice_gives_identical_bytes(saved, tmp_path: Path) -> None:
    models, _ = saved
    a, b = tmp_path / "a", tmp_path / "b"
    save_models(models, a)
    save_models(models, b)
    for path in sorted(a.iterdir()):
        assert path.read_bytes() == (b / path.name).read_bytes(), path.name
    load_models(a)  # the canonical archives still load


def test_every_manifest_custlens_writes_is_accepted(saved, tmp_path: Path) -> None:
    """What the models can legitimately hold passes the schema: a Pareto/NBD baseline chosen by
    the backtest and a "contact nobody" threshold (value and precision None)."""
    from custlens.models.manifest import Manifest

    manifest = json.loads((saved[1] / "manifest.json").read_text())
    manifest["defaults"]["btyd"] = "pareto_nbd"
    manifest["btyd"] = {
        "bgnbd": None,
        "pareto_nbd": {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7},
        "gamma_gamma": None,
    }
    manifest["threshold"].update(value=None, precision=None, contacted=0, profit=0.0)
    parsed = Manifest.model_validate(manifest)
    assert parsed.btyd is not None and parsed.btyd.pareto_nbd is not None
    assert parsed.threshold.value is None
    manifest["btyd"]["bgnbd"] = {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}
    with pytest.raises(ValueError, match="exactly one"):
        Manifest.model_validate(manifest)
