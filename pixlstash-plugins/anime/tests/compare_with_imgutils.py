"""What dghs-imgutils itself makes of pictures, with the graphs in the Hugging Face cache the caller
names (``HF_HUB_CACHE``, offline): printed as JSON on the last line, for the plugin's test to compare.

    python compare_with_imgutils.py THRESHOLD -- IMAGE ...

For each picture: ``detect_heads`` (at its default threshold) and ``detect_faces`` at 0.2; then the CCIP
features of each head box's crop (the whole picture where none was found), their ``ccip_batch_differences``,
``ccip_batch_same`` at ``1 - THRESHOLD`` and ``ccip_clustering`` with DBSCAN at ``eps = 1 - THRESHOLD``,
``min_samples = 2``.
"""

import json
import sys
from importlib.metadata import version

from imgutils.detect import detect_faces, detect_heads
from imgutils.metrics import ccip_batch_differences, ccip_batch_extract_features, ccip_batch_same, ccip_clustering
from PIL import Image

MODEL = "ccip-caformer-24-randaug-pruned"


def main(argv: list[str]) -> None:
    threshold = float(argv[0])
    images = [Image.open(path) for path in argv[argv.index("--") + 1 :]]
    heads = [detect_heads(image) for image in images]
    faces = [detect_faces(image, model_name="face_detect_v1.4_s", conf_threshold=0.2) for image in images]
    crops = []
    for image, found in zip(images, heads, strict=True):
        rgb = image.convert("RGB")
        crops += [rgb.crop(box) for box, _, _ in found] or [rgb]
    features = ccip_batch_extract_features(crops, model=MODEL)
    print(
        json.dumps(
            {
                "imgutils": version("dghs-imgutils"),
                "heads": heads,
                "faces": faces,
                "features": features.tolist(),
                "differences": ccip_batch_differences(list(features), model=MODEL).tolist(),
                "same": ccip_batch_same(list(features), threshold=1 - threshold, model=MODEL).tolist(),
                "clusters": list(
                    ccip_clustering(list(features), method="dbscan", eps=1 - threshold, min_samples=2, model=MODEL)
                ),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
