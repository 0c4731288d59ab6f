"""sdtm layer."""
