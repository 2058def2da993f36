"""The regression frame build alone: what `shortvid regress --save-frame` does before fitting models.

    python benchmarks/regress_frame.py EVENTS_DIR user|user_video|session OUT.parquet \
        [--threads N] [--memory-limit SIZE]

Builds the frame with ``regress.build_frame`` (queries/regression_frame_<unit>.sql) and writes it with
``regress.save_frame``, the command's own code, identifiers pseudonymised as by default (with a fixed
benchmark key), without the statsmodels fit that follows in ``regress`` (its cost depends on the model,
not on the events: docs/regress.md).
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from shortvid_analytics.config import Config
from shortvid_analytics.regress import build_frame, save_frame
from shortvid_analytics.source import EventSource

#: The purchase window of the user_video unit (regress's default).
WINDOW = timedelta(hours=24)
#: Pseudonymisation key of the written frame (a benchmark needs none secret).
KEY = b"shortvid-benchmark"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events")
    parser.add_argument("unit", choices=["user", "user_video", "session"])
    parser.add_argument("out")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--memory-limit")
    args = parser.parse_args()
    config = Config().with_engine(memory_limit=args.memory_limit, threads=args.threads)
    source = EventSource.open(args.events, config)
    frame = build_frame(source, args.unit, WINDOW)
    save_frame(frame, args.out, KEY, source.con)
    print(f"{frame.data.height} rows")


if __name__ == "__main__":
    main()
