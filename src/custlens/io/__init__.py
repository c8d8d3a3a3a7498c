"""Reading sources into canonical transactions, and cleaning them."""

from custlens.io.options import ReadOptions

__all__ = ["ReadOptions"]
