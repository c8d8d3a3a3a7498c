"""Reading sources into canonical transactions, and cleaning them.

``load`` and ``clean`` are imported eagerly: they share their names with their modules, and a
lazy attribute would be shadowed by the module once it is imported.
"""

from custlens.io.clean import Cleaned, clean
from custlens.io.load import Source, load
from custlens.io.options import ReadOptions
from custlens.io.quality import QualityReport, RuleResult
from custlens.io.readers import read_table

__all__ = [
    "Cleaned",
    "QualityReport",
    "ReadOptions",
    "RuleResult",
    "Source",
    "clean",
    "load",
    "read_table",
]
