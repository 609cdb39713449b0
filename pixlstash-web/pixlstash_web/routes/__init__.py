"""Route modules; each has ``register(api)`` that declares its endpoints."""

from . import (
    auth_routes,
    enrichment,
    events,
    history,
    library_folders,
    likeness,
    media,
    organise,
    people,
    pictures,
    search,
    shared,
    snapshots,
    system,
    training,
)

MODULES = (
    system,
    auth_routes,
    pictures,
    history,
    organise,
    library_folders,
    media,
    events,
    shared,
    snapshots,
    enrichment,
    search,
    likeness,
    people,
    training,
)
