"""Organising a library: projects, sets, characters, the tag vocabulary and stacks."""
