"""The running system around a library: paths, the clock, the event bus, memory, scratch folders, the update check
and ``pixlstash doctor``'s checks."""
