"""People: faces grouped into people and named as characters."""
