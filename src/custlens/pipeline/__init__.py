"""The one place that runs the stages in order and returns a frozen ``Results``."""

from custlens.pipeline.audit import audit
from custlens.pipeline.registry import ANALYSES, STAGES
from custlens.pipeline.results import Results, SourceInfo
from custlens.pipeline.run import CORE_STAGES, package_versions, run
from custlens.pipeline.score import score
from custlens.pipeline.stage import Stage, StageContext, StageResult

__all__ = [
    "ANALYSES",
    "CORE_STAGES",
    "STAGES",
    "Results",
    "SourceInfo",
    "Stage",
    "StageContext",
    "StageResult",
    "audit",
    "open_results",
    "package_versions",
    "run",
    "score",
]


def open_results(folder):  # noqa: ANN001, ANN201 - documented on Results.from_folder
    """Reopen a results folder written by ``custlens run`` (see ``Results.from_folder``)."""
    return Results.from_folder(folder)
