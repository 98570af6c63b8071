"""tests/engine/bulk."""
