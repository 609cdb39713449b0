"""A third-party test plugin: tags pictures whose red channel dominates blue as 'sepia'."""

from pixlstash import Tagger, TagScore, hookimpl


class SepiaTagger(Tagger):
    id = "sepia/warmth"
    version = "1"

    def tag(self, images):
        results = []
        for image in images:
            r, _, b = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
            results.append([TagScore("sepia", round(r / 255, 3))] if r > b else [])
        return results


@hookimpl
def register_taggers(register):
    register(SepiaTagger())
