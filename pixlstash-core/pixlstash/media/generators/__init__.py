"""Readers of the generation metadata each image generator writes, one module per generator."""
