"""An example PixlStash plugin: tags each picture landscape, portrait or square."""

from pixlstash import Tagger, TagScore, hookimpl


class AspectTagger(Tagger):
    id = "aspect/ratio"  # stable: "<plugin>/<model>"
    version = "1"  # bump when results would change
    label = "Aspect ratio"
    preferred_batch_size = 256  # cheap: large batches

    def tag(self, images):
        results = []
        for image in images:
            ratio = image.width / image.height
            name = "landscape" if ratio > 1.05 else "portrait" if ratio < 0.95 else "square"
            results.append([TagScore(name, 1.0, category="meta")])
        return results


@hookimpl
def register_taggers(register):
    register(AspectTagger())
