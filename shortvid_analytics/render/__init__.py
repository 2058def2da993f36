"""Renderers: terminal tables (rich), files (JSON/CSV/Parquet) and charts (matplotlib). They never query."""
