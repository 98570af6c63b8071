"""tests/proto."""
