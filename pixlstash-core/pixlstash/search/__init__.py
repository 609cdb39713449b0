"""Finding pictures: the search service and likeness to references."""
