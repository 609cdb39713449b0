"""The insights over a selection of the library. Each picture's settings are read and numbered once and
kept while its change stamp stays the same, so that a new filter or a new rating costs the pictures that
changed, not the whole library."""

from __future__ import annotations

import threading

import msgspec
import numpy as np

from ..db.collections import CollectionStore
from ..db.outcomes import OutcomeStore
from ..db.query import PictureQuery
from ..domain import PictureFilter
from ..errors import BadInput
from ..system.memory import collector_paused
from .feature_cache import FeatureCache, Features
from .keepers import InsightsReport, KeptRule, keeper_report
from .settings import FeatureIndex

__all__ = ["Insights"]

# Pictures whose settings are kept between reports (about 100 bytes each); past it, all are read again.
_KEPT_AT_MOST = 500_000


class Insights:
    def __init__(
        self, query: PictureQuery, outcomes: OutcomeStore, collections: CollectionStore, cache: FeatureCache
    ) -> None:
        self.query, self.outcomes, self.collections, self.cache = query, outcomes, collections, cache
        self._index = FeatureIndex()
        self._features: Features | None = None  # read from the cache when first needed
        self._lock = threading.Lock()

    def keepers(self, f: PictureFilter, kept: KeptRule, min_pictures: int = 20) -> InsightsReport:
        """Which settings make keepers among the pictures ``f`` selects. The scrapheap's pictures that match
        count too (never as kept: scrapping one is saying no), unless ``f`` asks for the scrapheap alone."""
        with collector_paused():  # (a row or two for each picture, none of them in a cycle)
            return self._keepers(f, kept, min_pictures)

    def _keepers(self, f: PictureFilter, kept: KeptRule, min_pictures: int) -> InsightsReport:
        if kept.by == "set":
            if kept.set_id is None:
                raise BadInput("kept by a set: say which (set_id)")
            self.collections.collection(kept.set_id)  # NotFound when there is none
        ids = self.query.ids(f)
        if not f.scrapheap:
            ids += self.query.ids(msgspec.structs.replace(f, scrapheap=True))
        states = self.outcomes.states(ids, kept.set_id)
        with self._lock:
            newest = self.outcomes.newest_stamp()
            if self._features is None:
                self._index, self._features = self.cache.load(newest)
            if len(self._features) + len(states) > _KEPT_AT_MOST:
                self._index, self._features = FeatureIndex(), {}
            known = self._features
            stamps = {picture_id: stamp for picture_id, stamp, *_ in states}
            stale = [i for i, stamp in stamps.items() if known.get(i, (None,))[0] != stamp]
            rows = self.outcomes.settings(stale) if stale else []
            numbered = self._index.features_of([settings for _, *settings in rows])
            for (picture_id, *_), numbers in zip(rows, numbered, strict=True):
                known[picture_id] = (stamps[picture_id], numbers)
            if stale:
                self.cache.save(self._index, known, newest)
            states = [state for state in states if state[0] in known]  # (one deleted meanwhile)
            features = [known[picture_id][1] for picture_id, *_ in states]
            keys = list(self._index.keys)
        kept_flags = np.fromiter(
            (kept.kept(rating, bool(scrapped), bool(in_set)) for _, _, rating, scrapped, in_set in states),
            bool,
            len(states),
        )
        ratings = np.fromiter((rating for _, _, rating, _, _ in states), np.int64, len(states))
        return keeper_report(features, kept_flags, ratings, keys, kept, max(1, min_pictures))
