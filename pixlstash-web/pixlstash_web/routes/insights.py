"""Insights: which generation settings make the pictures the owner keeps."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from pixlstash.domain import PictureFilter
from pixlstash.insights import InsightsReport, KeptRule

from ..api import Api, RequestContext
from ..security import Policy


class KeepersRequest(msgspec.Struct, forbid_unknown_fields=True):
    filter: PictureFilter = PictureFilter()
    kept: KeptRule = KeptRule()
    min_pictures: Annotated[int, Meta(ge=1, le=1_000_000)] = 20


def register(api: Api) -> None:
    @api.post(
        "/insights/keepers",
        policy=Policy.READ,
        tag="insights",
        summary="Which generation settings make keepers in a filtered view: keep rates, lifts with 95% "
        "intervals, and the findings in words (pixlstash insights)",
    )
    def keepers(ctx: RequestContext, body: KeepersRequest) -> InsightsReport:
        return ctx.library.insights.keepers(body.filter, body.kept, body.min_pictures)
