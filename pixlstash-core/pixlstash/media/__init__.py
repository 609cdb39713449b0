"""Reading media files: identity, metadata, thumbnails. Pure functions: files in, results out, no database."""
