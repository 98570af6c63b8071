"""tests/columnar."""
