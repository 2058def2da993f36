"""``python -m shortvid_analytics.cli``: the same as the ``shortvid`` script."""

from . import main

main()
