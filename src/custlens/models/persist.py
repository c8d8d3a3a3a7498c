"""Save and load fitted models: skops files (never pickle) plus ``manifest.json``.

The folder holds one skops file per part (``churn``, ``clv``, ``next_purchase`` when fitted,
``maps`` with the calibrator and the baseline score maps) and a manifest with the feature list
and dtypes, as-of date, horizon, settings, metrics, defaults, BTYD parameters, package versions
and the sha256 of every model file. ``load_models`` refuses, with a ``ModelError``: a missing or
unreadable manifest, a custlens or LightGBM major.minor version other than the running one, a
file whose hash differs from the manifest, and any type in a skops file outside ``TRUSTED``
(checked with ``skops.io.get_untrusted_types`` before loading, then loaded with exactly that
list). A feature-schema mismatch with new data is refused by ``scoring.check_schema``.

``save_models`` is atomic: the folder is written next to the target and swapped in, so a
crash leaves either the old or the new complete folder (see ``save_models``).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import zipfile
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from custlens.config import ModelsConfig
from custlens.errors import ModelError, OutputError
from custlens.models.baselines import BtydBaseline
from custlens.models.churn import ChurnModel
from custlens.models.clv import ClvModel
from custlens.models.evaluation import Threshold
from custlens.models.manifest import validate_manifest
from custlens.models.next_purchase import NextPurchaseModel
from custlens.models.trainer import TrainedModels
from custlens.outputs import remove_stale

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TRUSTED = [  # beyond skops's own defaults (builtins, numpy, sklearn estimators it knows)
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
]
CHECKED_VERSIONS = ("custlens", "lightgbm")
_VERSIONS = ("custlens", "lightgbm", "scikit-learn", "skops", "numpy", "pandas")
_AT_FDCWD = -100  # renameat2: paths relative to the working directory
_RENAME_EXCHANGE = 2  # renameat2: swap the two paths atomically


def package_versions() -> dict[str, str]:
    out = {}
    for name in _VERSIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def _parts(models: TrainedModels) -> dict[str, dict[str, Any]]:
    parts = {
        "churn": {"model": models.churn.model_},
        "clv": {"model": models.clv.model_},
        "maps": {"calibrator": models.churn.calibrator_, **models.score_maps},
    }
    if models.next_purchase is not None:
        parts["next_purchase"] = {"model": models.next_purchase.model_}
    return parts


_SKOPS_ID = re.compile(r'"__id__": (\d+)|"(\d+)\.npy"')


def _canonical_skops(path: Path) -> None:
    """Rewrite a skops archive so that the same model gives the same bytes on every run.

    skops names objects by their memory address (``__id__`` and the ``<id>.npy`` members) and
    stamps the zip members with the current time. The addresses are replaced by their order of
    first appearance (references stay consistent: each address maps to one number) and the
    members get a fixed time; ``skops.io.load`` reads the result as before.
    """
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info.filename)) for info in archive.infolist()]
    schema = dict(members)["schema.json"].decode("utf-8")
    order: dict[str, str] = {}

    def renumber(match: re.Match[str]) -> str:
        old = match.group(1) or match.group(2)
        new = order.setdefault(old, str(len(order) + 1))
        return f'"__id__": {new}' if match.group(1) else f'"{new}.npy"'

    schema = _SKOPS_ID.sub(renumber, schema)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            if name == "schema.json":
                name, data = "schema.json", schema.encode("utf-8")
            elif name.endswith(".npy") and name[:-4] in order:
                name = f"{order[name[:-4]]}.npy"
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


def _write_text(path: Path, text: str) -> None:
    """Write and flush ``text`` to disk (mode 0o666 less the umask, like any new file)."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync(path: Path) -> None:
    """Flush a file or folder to disk, so a rename never publishes unwritten data."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on some platforms (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@functools.cache
def _renameat2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2  # glibc >= 2.28
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    False where the platform or the file system does not support it.
    """
    func = _renameat2()
    if func is None:
        return False
    if func(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _swap_in(staged: Path, target: Path, backup: Path) -> None:
    """Put the complete folder ``staged`` at ``target``, keeping a complete folder there at
    every moment.

    A new ``target`` is one rename. An existing one is exchanged with ``staged`` in one
    atomic step where the system allows it (the old folder then sits at ``staged``);
    elsewhere it is renamed to ``backup`` and ``staged`` renamed into place, and if that
    second rename fails the old folder is renamed back. Both renames stay in one folder, so
    between them the old complete folder exists, at ``backup``.
    """
    if not target.exists():
        os.rename(staged, target)
    elif not _exchange(staged, target):
        os.rename(target, backup)
        try:
            os.rename(staged, target)
        except BaseException:
            os.rename(backup, target)
            raise
    _fsync(target.parent)


def save_models(models: TrainedModels, directory: str | Path) -> Path:
    """Write the models and ``manifest.json`` to ``directory`` atomically.

    ``directory`` is replaced only when it is a custlens model folder or empty. Everything is
    written (and flushed to disk) in a new folder inside a private temporary sibling, which
    is then swapped in (see ``_swap_in``): at every moment either the old or the new complete
    folder is in place, and a failure leaves the old one untouched. The temporary sibling is
    removed afterwards. Only a process killed during the save leaves a ``.<name>.saving-*``
    sibling behind (without the atomic exchange, a kill between the two renames leaves the old
    folder complete in its ``old`` subfolder).
    Folders and files get the usual modes less the umask (0755 / 0644 under umask 022): the
    model files hold no secrets.
    """
    target = Path(directory)
    if target.exists() and (
        not target.is_dir() or (any(target.iterdir()) and not (target / MANIFEST).is_file())
    ):
        raise OutputError(
            f"{str(target)!r} exists and is not a custlens model folder",
            where=str(target),
            fix="choose a new or empty folder for the models",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    # the private (0700) sibling only hides the work in progress; what it holds gets the umask
    remove_stale(target.parent)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.saving-{os.getpid()}-", dir=target.parent))
    staged = work / "new"
    try:
        staged.mkdir()
        import skops.io as sio  # about 1 s: lists every scikit-learn estimator (and pytest)

        files = {}
        for name, obj in _parts(models).items():
            path = staged / f"{name}.skops"
            sio.dump(obj, path)
            _canonical_skops(path)
            _fsync(path)
            files[path.name] = _sha256(path)
        manifest = {
            "format_version": FORMAT_VERSION,
            "versions": package_versions(),
            "as_of": models.as_of,
            "train_cutoff": models.train_cutoff,
            "train_recency_max": models.train_recency_max,
            "train_order_value_median": models.train_order_value_median,
            "cleaning_rules": models.cleaning_rules,
            "horizon_days": models.horizon_days,
            "seed": models.seed,
            "features": [{"name": n, "dtype": "float64"} for n in models.feature_names],
            "settings": models.config.model_dump(mode="json"),
            "defaults": models.defaults,
            "threshold": models.churn.threshold_.to_dict(),
            "calibration": models.churn.calibration_report_,
            "btyd": models.btyd.params() if models.btyd is not None else None,
            "metrics": models.metrics,
            "importance": models.importance,
            "files": files,
        }
        text = json.dumps(_json_safe(manifest), indent=2, allow_nan=False)
        _write_text(staged / MANIFEST, text)
        _fsync(staged)
        _swap_in(staged, target, work / "old")
    finally:
        if (work / "old").is_dir() and not target.exists():  # the rollback itself failed
            log.error("saving the models failed; the previous models are in %s", work / "old")
        else:
            shutil.rmtree(work, ignore_errors=True)  # the old folder, or the unfinished new one
    log.info("models saved to %s", target)
    return target


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        inside = folder / "models"
        fix = (
            f"pass the models folder inside it: {str(inside)!r}"
            if (inside / MANIFEST).is_file()  # a results folder of custlens run
            else "pass the models/ folder of a results folder written by custlens run "
            "(or a folder written by save_models)"
        )
        raise ModelError(
            f"{str(folder)!r} is not a custlens model folder (no {MANIFEST})",
            where=str(folder),
            fix=fix,
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ModelError(
            f"{MANIFEST} is unreadable ({exc})",
            where=str(path),
            fix="re-save the models; do not edit the manifest",
        ) from None
    # the schema is checked before any model file is opened; the checked values are used
    return validate_manifest(data, path).model_dump(mode="json")


def _check_versions(manifest: dict[str, Any], folder: Path) -> None:
    running = package_versions()
    for name in CHECKED_VERSIONS:
        saved = str(manifest["versions"].get(name, "unknown"))
        if _major_minor(saved) != _major_minor(running[name]):
            raise ModelError(
                f"The models were saved with {name} {saved}, but {name} {running[name]} is "
                "installed (major.minor must match)",
                where=str(folder / MANIFEST),
                fix=f"retrain and save the models with this installation, or install {name} "
                f"{'.'.join(_major_minor(saved))}.x",
            )


def _load_part(folder: Path, name: str, expected_hash: str) -> dict[str, Any]:
    path = folder / name
    if not path.is_file():
        raise ModelError(f"Model file {name} is missing", where=str(folder), fix="re-save")
    if _sha256(path) != expected_hash:
        raise ModelError(
            f"Model file {name} was modified after it was saved (sha256 differs from the manifest)",
            where=str(path),
            fix="restore the original file or retrain and save the models again",
        )
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises several exception types for a corrupt archive
        raise ModelError(
            f"Model file {name} is not a readable skops file ({exc})", where=str(path)
        ) from None
    unknown = sorted(set(untrusted) - set(TRUSTED))
    if unknown:
        raise ModelError(
            f"Model file {name} contains types custlens does not trust: {unknown}",
            where=str(path),
            fix="only load model folders written by custlens; retrain and save the models",
        )
    try:
        obj = sio.load(path, trusted=TRUSTED)
    except Exception as exc:  # noqa: BLE001 - e.g. a LightGBM model string that does not parse
        raise ModelError(
            f"Model file {name} cannot be loaded ({type(exc).__name__}: {str(exc)[:200]})",
            where=str(path),
            fix="retrain and save the models again",
        ) from None
    needed = {"maps.skops": "calibrator"}.get(name, "model")
    if not isinstance(obj, dict) or needed not in obj:
        raise ModelError(
            f"Model file {name} does not hold a custlens model (no {needed!r} entry)",
            where=str(path),
            fix="retrain and save the models again",
        )
    if needed == "model":
        _check_lightgbm(obj["model"], name, path)
    return obj


def _check_lightgbm(model: Any, name: str, path: Path) -> None:
    """A fitted LightGBM estimator whose booster holds a model (it predicts on one row)."""
    import lightgbm as lgb

    booster = getattr(model, "_Booster", None)
    try:
        ok = isinstance(model, lgb.LGBMModel) and isinstance(booster, lgb.Booster)
        ok = ok and isinstance(booster, lgb.Booster) and booster.num_feature() > 0
    except Exception:  # noqa: BLE001 - a booster without a model raises on any call
        ok = False
    if not ok:
        raise ModelError(
            f"Model file {name} does not hold a fitted LightGBM model",
            where=str(path),
            fix="retrain and save the models again",
        )


def load_models(directory: str | Path) -> TrainedModels:
    """Load a folder written by ``save_models`` (see the module docs for what is refused)."""
    folder = Path(directory)
    manifest = _read_manifest(folder)
    _check_versions(manifest, folder)
    parts = {
        name.removesuffix(".skops"): _load_part(folder, name, digest)
        for name, digest in manifest["files"].items()
    }
    config = ModelsConfig.model_validate(manifest["settings"])
    maps = dict(parts["maps"])
    calibrator = maps.pop("calibrator")
    churn = ChurnModel.from_parts(
        parts["churn"]["model"],
        calibrator,
        config=config,
        threshold=Threshold(**manifest["threshold"]),
        calibration_report=manifest["calibration"],
        seed=int(manifest["seed"]),
    )
    nxt = parts.get("next_purchase")
    as_of = manifest.get("as_of")
    return TrainedModels(
        churn=churn,
        clv=ClvModel.from_parts(parts["clv"]["model"], config, seed=int(manifest["seed"])),
        next_purchase=(
            NextPurchaseModel.from_parts(nxt["model"], config, seed=int(manifest["seed"]))
            if nxt
            else None
        ),
        score_maps=maps,
        feature_names=tuple(f["name"] for f in manifest["features"]),
        train_cutoff=date.fromisoformat(manifest["train_cutoff"]),
        train_recency_max=(
            None
            if manifest.get("train_recency_max") is None
            else float(manifest["train_recency_max"])
        ),
        train_order_value_median=(
            None
            if manifest.get("train_order_value_median") is None
            else float(manifest["train_order_value_median"])
        ),
        cleaning_rules=(
            None
            if manifest.get("cleaning_rules") is None
            else {str(k): bool(v) for k, v in manifest["cleaning_rules"].items()}
        ),
        horizon_days=int(manifest["horizon_days"]),
        config=config,
        seed=int(manifest["seed"]),
        btyd=BtydBaseline.from_params(manifest["btyd"]) if manifest.get("btyd") else None,
        as_of=date.fromisoformat(as_of) if as_of else None,
        defaults=dict(manifest["defaults"]),
        metrics=manifest.get("metrics") or {},
        importance=manifest.get("importance") or {},
    )
