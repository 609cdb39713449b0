"""Bringing files into a library: finding them (files, folders, archives) and importing them."""
