"""submission layer."""
