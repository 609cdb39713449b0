"""Where a picture's files are: the originals' stores, staged local copies, choosing and moving stores, previews,
renditions and sidecars."""
