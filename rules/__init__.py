"""Rule sets: the catalog's rule sources checked and compiled together, ready for the hot path."""
