"""The one place that runs the stages in order and returns a frozen ``Results``."""

from custlens.pipeline.results import Results, Understanding
from custlens.pipeline.run import STAGES, package_versions, run

__all__ = ["STAGES", "Results", "Understanding", "package_versions", "run"]
