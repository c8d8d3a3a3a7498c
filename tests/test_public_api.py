"""The public API: what ``import custlens`` and each subpackage offer, and nothing else."""

from __future__ import annotations

import importlib
import pkgutil
from importlib import metadata

import pytest

import custlens

PROMISED = {
    "run",
    "load",
    "clean",
    "customer_table",
    "score_rfm",
    "Results",
    "open_results",
    "Settings",
    "BetaGeoModel",
    "GammaGammaModel",
    "summary_from_transactions",
    "audit",
    "datasets",
    "CustlensError",
    "InputError",
    "MappingError",
    "ConfigError",
    "DataError",
    "OutputError",
    "ModelError",
    "NotFittedError",
}
SUBPACKAGES = sorted(
    m.name
    for m in pkgutil.iter_modules(custlens.__path__, "custlens.")
    if m.ispkg and m.name != "custlens.cli"
)


def test_top_level_offers_the_promised_names_and_only_public_ones():
    assert set(custlens.__all__) >= PROMISED
    assert dir(custlens) == sorted(custlens.__all__)
    assert all(not name.startswith("_") or name == "__version__" for name in custlens.__all__)
    for name in custlens.__all__:
        assert getattr(custlens, name) is not None, name


def test_version_comes_from_the_installed_metadata():
    assert custlens.__version__ == metadata.version("custlens")


def test_errors_are_one_family():
    for name in ("InputError", "MappingError", "ConfigError", "DataError", "OutputError"):
        assert issubclass(getattr(custlens, name), custlens.CustlensError)
    assert issubclass(custlens.NotFittedError, custlens.ModelError)


@pytest.mark.parametrize("package", SUBPACKAGES)
def test_every_subpackage_exports_its_public_names(package):
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported, f"{package} has no __all__"
    for name in exported:
        assert not name.startswith("_"), (package, name)
        assert getattr(module, name) is not None, (package, name)


def test_models_are_importable_from_their_package():
    from custlens.models import BetaGeoModel, GammaGammaModel

    assert BetaGeoModel is custlens.BetaGeoModel
    assert GammaGammaModel is custlens.GammaGammaModel
