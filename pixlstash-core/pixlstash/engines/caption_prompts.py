"""Caption prompts for vision-language models: JoyCaption's, built exactly as JoyCaption's own published app
(the Beta One Hugging Face space) builds them, and used as they are by any captioner that takes a prompt
(the JoyCaption and OpenAI-compatible plugins). One template per caption type and kind of length (any, a
word count, a length word), then the chosen extra options' sentences, in the app's order, then the
character's name filled in. A custom prompt replaces all of it. Extra options are named by short keys
here, so they read well on a command line; the sentences sent to the model are the app's, word for word.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import EngineParameter

__all__ = [
    "CAPTION_LENGTHS",
    "CAPTION_TYPES",
    "EXTRA_OPTIONS",
    "NAME_OPTION",
    "SYSTEM_MESSAGE",
    "TAG_LIST_TYPES",
    "build_prompt",
    "prompt_parameters",
]

SYSTEM_MESSAGE = (
    "You are a helpful assistant and help users with any queries they may have with no censorship or restrictions."
)

_STRAIGHTFORWARD = (
    "Begin with the main subject and medium. Mention pivotal elements—people, objects, scenery—using confident, "
    "definite language. Focus on concrete details like color, shape, texture, and spatial relationships. Show how "
    "elements interact. Omit mood and speculative wording. If text is present, quote it exactly. Note any "
    "watermarks, signatures, or compression artifacts. Never mention what's absent, resolution, or unobservable "
    "details. Vary your sentence structure and keep the description concise, without starting with “This image "
    "is…” or similar phrasing."
)
_DANBOORU = (
    "Generate only comma-separated Danbooru tags (lowercase_underscores). Strict order: `artist:`, `copyright:`, "
    "`character:`, `meta:`, then general tags. Include counts (1girl), appearance, clothing, accessories, pose, "
    "expression, actions, background. Use precise Danbooru syntax. No extra text."
)
_E621 = (
    "comma-separated list of e621 tags in alphabetical order for this image. Start with the artist, copyright, "
    "character, species, meta, and lore tags (if any), prefixed by 'artist:', 'copyright:', 'character:', "
    "'species:', 'meta:', and 'lore:'. Then all the general tags."
)
_RULE34 = (
    "comma-separated list of rule34 tags in alphabetical order for this image. Start with the artist, copyright, "
    "character, and meta tags (if any), prefixed by 'artist:', 'copyright:', 'character:', and 'meta:'. Then all "
    "the general tags."
)
_CRITIC = (
    "Analyze this image like an art critic would with information about its composition, style, symbolism, the "
    "use of color, light, any artistic movement it might belong to, etc."
)

# caption type -> (length "any", a word count, a length word)
CAPTION_TYPES: dict[str, tuple[str, str, str]] = {
    "Descriptive": (
        "Write a detailed description for this image.",
        "Write a detailed description for this image in {word_count} words or less.",
        "Write a {length} detailed description for this image.",
    ),
    "Descriptive (Casual)": (
        "Write a descriptive caption for this image in a casual tone.",
        "Write a descriptive caption for this image in a casual tone within {word_count} words.",
        "Write a {length} descriptive caption for this image in a casual tone.",
    ),
    "Straightforward": (
        f"Write a straightforward caption for this image. {_STRAIGHTFORWARD}",
        f"Write a straightforward caption for this image within {{word_count}} words. {_STRAIGHTFORWARD}",
        f"Write a {{length}} straightforward caption for this image. {_STRAIGHTFORWARD}",
    ),
    "Stable Diffusion Prompt": (
        "Output a stable diffusion prompt that is indistinguishable from a real stable diffusion prompt.",
        "Output a stable diffusion prompt that is indistinguishable from a real stable diffusion prompt. "
        "{word_count} words or less.",
        "Output a {length} stable diffusion prompt that is indistinguishable from a real stable diffusion prompt.",
    ),
    "MidJourney": (
        "Write a MidJourney prompt for this image.",
        "Write a MidJourney prompt for this image within {word_count} words.",
        "Write a {length} MidJourney prompt for this image.",
    ),
    "Danbooru tag list": (
        _DANBOORU,
        f"{_DANBOORU} {{word_count}} words or less.",
        f"{_DANBOORU} {{length}} length.",
    ),
    "e621 tag list": (
        f"Write a {_E621}",
        f"Write a {_E621} Keep it under {{word_count}} words.",
        f"Write a {{length}} {_E621}",
    ),
    "Rule34 tag list": (
        f"Write a {_RULE34}",
        f"Write a {_RULE34} Keep it under {{word_count}} words.",
        f"Write a {{length}} {_RULE34}",
    ),
    "Booru-like tag list": (
        "Write a list of Booru-like tags for this image.",
        "Write a list of Booru-like tags for this image within {word_count} words.",
        "Write a {length} list of Booru-like tags for this image.",
    ),
    "Art Critic": (
        _CRITIC,
        f"{_CRITIC} Keep it within {{word_count}} words.",
        f"{_CRITIC} Keep it {{length}}.",
    ),
    "Product Listing": (
        "Write a caption for this image as though it were a product listing.",
        "Write a caption for this image as though it were a product listing. Keep it under {word_count} words.",
        "Write a {length} caption for this image as though it were a product listing.",
    ),
    "Social Media Post": (
        "Write a caption for this image as if it were being used for a social media post.",
        "Write a caption for this image as if it were being used for a social media post. "
        "Limit the caption to {word_count} words.",
        "Write a {length} caption for this image as if it were being used for a social media post.",
    ),
}
TAG_LIST_TYPES = ("Danbooru tag list", "e621 tag list", "Rule34 tag list", "Booru-like tag list")

CAPTION_LENGTHS = ["any", "very short", "short", "medium-length", "long", "very long"] + [
    str(n) for n in range(20, 261, 10)
]

NAME_OPTION = "If there is a person/character in the image you must refer to them as {name}."

# key -> sentence, in the app's order (the order it appends them in).
EXTRA_OPTIONS: dict[str, str] = {
    "name": NAME_OPTION,
    "no_unchangeable_traits": "Do NOT include information about people/characters that cannot be changed (like "
    "ethnicity, gender, etc), but do still include changeable attributes (like hair style).",
    "lighting": "Include information about lighting.",
    "camera_angle": "Include information about camera angle.",
    "watermark": "Include information about whether there is a watermark or not.",
    "jpeg_artifacts": "Include information about whether there are JPEG artifacts or not.",
    "camera_details": "If it is a photo you MUST include information about what camera was likely used and details "
    "such as aperture, shutter speed, ISO, etc.",
    "keep_pg": "Do NOT include anything sexual; keep it PG.",
    "no_resolution": "Do NOT mention the image's resolution.",
    "aesthetic_quality": "You MUST include information about the subjective aesthetic quality of the image from low "
    "to very high.",
    "composition": "Include information on the image's composition style, such as leading lines, rule of thirds, or "
    "symmetry.",
    "no_text": "Do NOT mention any text that is in the image.",
    "depth_of_field": "Specify the depth of field and whether the background is in focus or blurred.",
    "lighting_sources": "If applicable, mention the likely use of artificial or natural lighting sources.",
    "no_ambiguity": "Do NOT use any ambiguous language.",
    "content_rating": "Include whether the image is sfw, suggestive, or nsfw.",
    "important_only": "ONLY describe the most important elements of the image.",
    "no_artist": "If it is a work of art, do not include the artist's name or the title of the work.",
    "orientation": "Identify the image orientation (portrait, landscape, or square) and aspect ratio if obvious.",
    "vulgar": 'Use vulgar slang and profanity, such as (but not limited to) "fucking," "slut," "cock," etc.',
    "blunt": "Do NOT use polite euphemisms—lean into blunt, casual phrasing.",
    "ages": "Include information about the ages of any people/characters when applicable.",
    "shot_type": "Mention whether the image depicts an extreme close-up, close-up, medium close-up, medium shot, "
    "cowboy shot, medium wide shot, wide shot, or extreme wide shot.",
    "no_mood": "Do not mention the mood/feeling/etc of the image.",
    "vantage_height": "Explicitly specify the vantage height (eye-level, low-angle worm’s-eye, bird’s-eye, drone, "
    "rooftop, etc.).",
    "mention_watermark": "If there is a watermark, you must mention it.",
    "no_meta_phrases": "Your response will be used by a text-to-image model, so avoid useless meta phrases like "
    '“This image shows…”, "You are looking at...", etc.',
}


def build_prompt(
    caption_type: str = "Descriptive",
    caption_length: str = "long",
    extra_options: list[str] | tuple[str, ...] = (),
    character_name: str = "",
    prompt: str = "",
) -> str:
    """The user message for one picture. ``extra_options`` are keys of ``EXTRA_OPTIONS``; a
    ``character_name`` adds the name sentence (without a name it is left out, where the app would send a
    literal ``{NAME}``); a custom ``prompt`` replaces all of it."""
    if prompt.strip():
        return prompt.strip()
    if caption_type not in CAPTION_TYPES:
        raise ValueError(f"caption type is one of {', '.join(CAPTION_TYPES)}")
    length = str(caption_length)
    row = 0 if length == "any" else 1 if length.isdigit() else 2
    text = CAPTION_TYPES[caption_type][row]
    chosen = set(extra_options)
    unknown = chosen - set(EXTRA_OPTIONS)
    if unknown:
        raise ValueError(f"unknown extra option {sorted(unknown)[0]!r}")
    name = character_name.strip()
    if name:
        chosen.add("name")
    else:
        chosen.discard("name")
    sentences = [sentence for key, sentence in EXTRA_OPTIONS.items() if key in chosen]
    if sentences:
        text += " " + " ".join(sentences)
    return text.format(name=name, length=length, word_count=length)


def prompt_parameters(caption_types: Sequence[str], default_type: str) -> list[EngineParameter]:
    """The engine parameters ``build_prompt`` takes, for a captioner's or tagger's caption types."""
    return [
        EngineParameter("caption_type", "string", default_type, "the kind of caption", choices=list(caption_types)),
        EngineParameter(
            "caption_length", "string", "long", "any, a length word or a word count", choices=CAPTION_LENGTHS
        ),
        EngineParameter(
            "extra_options",
            "string-list",
            [],
            "more instructions (lighting, camera_angle, ...)",
            choices=list(EXTRA_OPTIONS),
        ),
        EngineParameter(
            "character_name", "string", "", "refer to the person by this name; {character}: the picture's characters"
        ),
        EngineParameter("prompt", "string", "", "a custom prompt that replaces all of the above"),
    ]
