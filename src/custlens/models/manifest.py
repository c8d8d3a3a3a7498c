"""The schema of a models folder's ``manifest.json``, checked before any model file is opened.

An edited or damaged manifest (versions as a list, settings out of range, a threshold outside
0..1, a cutoff that is not a date, a horizon of 10**20 days, BTYD parameters that are not
positive numbers, an unknown default scorer, a model file outside the folder) is refused with a
``ModelError`` naming the field, instead of failing later inside a model.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from custlens.config import ModelsConfig
from custlens.errors import ModelError

_MODEL_FILE = r"^[a-z][a-z0-9_]*\.skops$"  # a plain name: no folder, no "..", no absolute path
_SHA256 = r"^[0-9a-f]{64}$"

Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Finite = Annotated[float, Field(allow_inf_nan=False)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FeatureEntry(_Part):
    name: str = Field(min_length=1)
    dtype: Literal["float64"]


class ThresholdEntry(_Part):
    goal: str = Field(min_length=1)
    value: Probability | None  # None: contact nobody (no threshold pays)
    precision: Probability | None  # None: undefined when nobody is contacted
    recall: Probability
    contacted: int = Field(ge=0)
    profit: Finite


class BgNbdParams(_Part):
    r: Positive
    alpha: Positive
    a: Positive
    b: Positive


class GammaGammaParams(_Part):
    p: Positive
    q: Positive
    gamma: Positive


class ParetoNbdParams(_Part):
    r: Positive
    alpha: Positive
    s: Positive
    beta: Positive


class BtydEntry(_Part):
    """The BTYD baseline: BG/NBD or Pareto/NBD (the one the backtest chose), and Gamma-Gamma."""

    bgnbd: BgNbdParams | None = None
    pareto_nbd: ParetoNbdParams | None = None
    gamma_gamma: GammaGammaParams | None = None

    @model_validator(mode="after")
    def _one_model(self) -> BtydEntry:
        if (self.bgnbd is None) == (self.pareto_nbd is None):
            raise ValueError("exactly one of bgnbd and pareto_nbd must be given")
        return self


class Defaults(_Part):
    churn: Literal["lightgbm", "btyd", "last_period", "recency"]
    clv: Literal["lightgbm", "btyd", "last_period"]
    btyd: Literal["bgnbd", "pareto_nbd"] = "bgnbd"


class Manifest(_Open):
    """What ``load_models`` reads from ``manifest.json`` (other keys are kept, unchecked)."""

    format_version: Literal[1]
    versions: dict[str, str]
    as_of: date | None = None
    train_cutoff: date
    train_recency_max: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    train_order_value_median: Annotated[float, Field(ge=0.0, allow_inf_nan=False)] | None = None
    cleaning_rules: dict[str, bool] | None = None
    horizon_days: int = Field(ge=1, le=3660)
    seed: int = Field(ge=0, le=2**32 - 1)
    features: list[FeatureEntry] = Field(min_length=1)
    settings: ModelsConfig
    defaults: Defaults
    threshold: ThresholdEntry
    calibration: dict[str, Any] | None = None
    btyd: BtydEntry | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    importance: dict[str, Finite] = Field(default_factory=dict)
    files: dict[Annotated[str, Field(pattern=_MODEL_FILE)], Annotated[str, Field(pattern=_SHA256)]]

    @field_validator("files")
    @classmethod
    def _needed_files(cls, files: dict[str, str]) -> dict[str, str]:
        missing = {"churn.skops", "clv.skops", "maps.skops"} - set(files)
        if missing:
            raise ValueError(f"lists no {sorted(missing)}")
        return files


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        value = error.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        if isinstance(value, float) and not math.isfinite(value):
            shown = str(value)
        parts.append(f"{field}: {error['msg']} (found {shown[:80]})")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def validate_manifest(data: Any, path: Path) -> Manifest:
    """``data`` (the parsed JSON) checked against the schema; a ``ModelError`` otherwise."""
    if not isinstance(data, dict):
        raise ModelError(
            f"manifest.json holds a {type(data).__name__}, not an object",
            where=str(path),
            fix="re-save the models with custlens; do not edit the manifest",
        )
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise ModelError(
            f"manifest.json is not a valid custlens manifest: {_describe(exc)}",
            where=str(path),
            fix="restore the manifest written by custlens, or retrain and save the models again",
        ) from None
    folder = path.parent.resolve()
    for name in manifest.files:
        if (folder / name).resolve().parent != folder:
            raise ModelError(
                f"The manifest names a model file outside its folder: {name!r}",
                where=str(path),
                fix="model files must sit in the models folder itself",
            )
    return manifest
