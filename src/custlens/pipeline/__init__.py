"""The one place that runs the stages in order and returns a frozen ``Results``."""

from pathlib import Path

from custlens.pipeline.audit import audit
from custlens.pipeline.profile import ProfileResult, profile
from custlens.pipeline.registry import ANALYSES, STAGES
from custlens.pipeline.results import Results, SourceInfo
from custlens.pipeline.run import CORE_STAGES, package_versions, run
from custlens.pipeline.score import score
from custlens.pipeline.stage import Stage, StageContext, StageResult

__all__ = [
    "ANALYSES",
    "CORE_STAGES",
    "ProfileResult",
    "STAGES",
    "Results",
    "SourceInfo",
    "Stage",
    "StageContext",
    "StageResult",
    "audit",
    "open_results",
    "package_versions",
    "profile",
    "run",
    "score",
]


def open_results(folder: str | Path) -> Results:
    """Reopen a results folder written by ``custlens run``, without an engine.

    Parameters
    ----------
    folder : str or pathlib.Path
        The ``--out`` folder of an earlier run.

    Returns
    -------
    Results
        The same tables, stage results, settings and notes the run returned.

    Raises
    ------
    OutputError
        The folder is not a complete custlens results folder.

    Examples
    --------
    >>> import tempfile, custlens
    >>> from custlens.exports import write_results
    >>> results = custlens.run(custlens.datasets.synthetic(200, seed=2).orders,
    ...                        settings=custlens.Settings(analyses=[]))
    >>> folder = write_results(results, tempfile.mkdtemp() + "/results")
    >>> custlens.open_results(folder).customers.equals(results.customers)
    True
    """
    return Results.from_folder(folder)
