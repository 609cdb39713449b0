"""The storage layer: every SQL statement of the library lives in this package."""
