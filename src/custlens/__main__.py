"""``python -m custlens`` is the same as the ``custlens`` command."""

from custlens.cli import main

main()
