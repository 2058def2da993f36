"""Names vulture cannot see used: called by a framework (click/typer hooks, dataclass fields read by name)."""
