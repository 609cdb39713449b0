"""A plugin that fails on import, as a plugin with a missing dependency would."""

raise ImportError("pixlstash_broken needs a library that is not installed")
