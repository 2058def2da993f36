"""``python -m shortvid_analytics.cli``: same as the ``shortvid`` console script."""

from . import main

main()
