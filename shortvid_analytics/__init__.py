"""shortvid-analytics: funnels, retention, engagement, A/B tests and regressions over short-video
e-commerce event exports (Parquet), computed in DuckDB.

Every analysis is a module with one public function returning a typed result object with
``to_dict()`` (the JSON contract) and ``to_frame()`` (a polars DataFrame)::

    from shortvid_analytics import source, funnel
    events = source.EventSource.open("events/")
    result = funnel.funnel(events, steps=["video_view", "purchase"], window="24h")
"""

__version__ = "0.1.0"
