"""Reading sources into canonical transactions, and cleaning them."""
