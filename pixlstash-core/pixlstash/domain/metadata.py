"""What a picture's files say about it: the generation data a generator wrote, and what photo software
said (XMP, IPTC-IIM)."""

from __future__ import annotations

from typing import Literal

import msgspec


class Lora(msgspec.Struct, frozen=True):
    name: str
    weight: float | None = None


class Generation(msgspec.Struct, frozen=True):
    """Generation metadata that AI images carry (ComfyUI prompt/workflow, A1111 parameters)."""

    # The generator that wrote it ("a1111": AUTOMATIC1111 or a fork that does not name itself).
    tool: Literal[
        "comfyui",
        "a1111",
        "forge",
        "reforge",
        "sdnext",
        "civitai",
        "swarmui",
        "invokeai",
        "novelai",
        "fooocus",
        "easydiffusion",
        "drawthings",
        "midjourney",
    ]
    positive: str = ""
    negative: str = ""
    checkpoint: str | None = None
    loras: list[Lora] = []
    seed: str | None = None  # decimal digits, exact: seeds pass 64 bits (and JavaScript's 53)
    sampler: str | None = None
    scheduler: str | None = None
    steps: int | None = None
    cfg: float | None = None  # classifier-free guidance: the sampler's (or guider's) CFG scale
    guidance: float | None = None  # a guidance-distilled model's guidance (Flux), a number apart from CFG
    raw_parameters: str | None = None
    raw_prompt: str | None = None
    raw_workflow: str | None = None


# IPTC digital source types that mean "made by generative AI" (cv.iptc.org/newscodes/digitalsourcetype).
AI_SOURCE_TYPES = ("trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia")


class PersonRegion(msgspec.Struct, frozen=True):
    """A person photo software named in a picture: the name, and the face's box as fractions of the
    picture as shown (x0, y0, x1, y1), or None where only the name was given."""

    name: str
    box: tuple[float, float, float, float] | None = None


class PhotoMetadata(msgspec.Struct, frozen=True):
    """What photo software keeps in a picture's XMP (embedded, or an ``.xmp`` sidecar beside it): keywords
    (hierarchical ones as ``parent/child``), the star rating (``rejected``: Lightroom's -1), the colour
    label, the title, the description and the people it names."""

    keywords: list[str] = []
    rating: int | None = None  # 1-5
    rejected: bool = False
    label: str | None = None
    title: str | None = None
    description: str | None = None
    # IPTC's digital source type, its term alone ("trainedAlgorithmicMedia": made by generative AI;
    # "digitalCapture": a camera's), as photo software and AI image services write it.
    digital_source_type: str | None = None
    people: list[PersonRegion] = []  # named face regions (MWG, Windows Photo Gallery) and PersonInImage


class ContentCredentials(msgspec.Struct, frozen=True):
    """A picture's Content Credentials (its active C2PA manifest), as read and verified at import.
    ``state``: "trusted" (the signature and the binding to the picture verify, and the signer is on the
    trust list), "valid" (they verify; the signer is not on the list) or "invalid" (they do not, or the
    manifest could not be read); ``problems`` are c2pa's codes for what did not verify."""

    state: Literal["trusted", "valid", "invalid"]
    generator: str | None = None  # the claim generator: "Adobe Firefly 1.0"
    signer: str | None = None  # the signing certificate's organisation (else its common name)
    signed_at: str | None = None  # the signature's time stamp, where a time stamp authority gave one
    actions: list[str] = []  # c2pa.created, c2pa.edited ...
    digital_source_type: str | None = None  # as an action says it ("trainedAlgorithmicMedia")
    problems: list[str] = []
