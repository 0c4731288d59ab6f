"""adam layer."""
