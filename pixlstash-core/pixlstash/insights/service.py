"""The insights over a selection of the library: its generated pictures' rows, read in one query."""

from __future__ import annotations

import msgspec

from ..db.collections import CollectionStore
from ..db.outcomes import OutcomeStore
from ..db.query import PictureQuery
from ..domain import PictureFilter
from ..errors import BadInput
from .keepers import InsightsReport, KeptRule, keeper_report

__all__ = ["Insights"]


class Insights:
    def __init__(self, query: PictureQuery, outcomes: OutcomeStore, collections: CollectionStore) -> None:
        self.query, self.outcomes, self.collections = query, outcomes, collections

    def keepers(self, f: PictureFilter, kept: KeptRule, min_pictures: int = 20) -> InsightsReport:
        """Which settings make keepers among the pictures ``f`` selects. The scrapheap's pictures that match
        count too (never as kept: scrapping one is saying no), unless ``f`` asks for the scrapheap alone."""
        if kept.by == "set":
            if kept.set_id is None:
                raise BadInput("kept by a set: say which (set_id)")
            self.collections.collection(kept.set_id)  # NotFound when there is none
        ids = self.query.ids(f)
        if not f.scrapheap:
            ids += self.query.ids(msgspec.structs.replace(f, scrapheap=True))
        return keeper_report(self.outcomes.rows(ids, kept.set_id), kept, max(1, min_pictures))
