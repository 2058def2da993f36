"""Rendered-SQL snapshots: what ``shortvid sql`` prints for a few canonical runs on the example data."""
