"""Output formats: terminal text, JSON lines, plots."""
