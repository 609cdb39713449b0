"""Changing pictures: the editor (ratings, tags, captions, predictions), their looks (turn, mirror, straighten,
crop) and the scrapheap."""
