# PixlStash's container image: `scripts/image` builds it (Podman or Docker); compose.yaml runs it.
#
#   VARIANT=cpu   core, web, WD tagger, faces, OpenAI-compatible captioner, S3 original store; onnxruntime,
#                 libvips, PyAV; no torch
#   VARIANT=cuda  every plugin (S3 included), CUDA torch and onnxruntime-gpu (run it with the NVIDIA container
#                 runtime)
#
# The library lives in the /library volume, models in /models; the server listens on 9537, runs as an
# unprivileged user (PIXLSTASH_UID / PIXLSTASH_GID at build time), logs to the container's output and stops
# within seconds of SIGTERM. Any Debian bookworm image with python3 and its venv module is a base
# (`scripts/image --local-base` makes one without a registry): nothing here names /usr/local/bin/python.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# The packages' manifests alone (every pyproject.toml, whatever plugins the tree holds): the layer that
# installs third-party packages is made again only when one of them changes, not with every code change.
FROM ${BASE_IMAGE} AS manifests
COPY pixlstash-core/pyproject.toml /manifests/pixlstash-core/
COPY pixlstash-web/pyproject.toml /manifests/pixlstash-web/
COPY pixlstash-plugins /manifests/pixlstash-plugins
RUN find /manifests/pixlstash-plugins -type f ! -name pyproject.toml -delete \
    && find /manifests/pixlstash-plugins -type d -empty -delete

FROM ${BASE_IMAGE} AS build
ARG VARIANT=cpu
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180
WORKDIR /src
RUN python3 -m venv /opt/pixlstash

# Third-party packages first, in their own layer: a change to PixlStash's code does not redo them. An extra
# CA bundle (scripts/image --ca-file, for an inspecting proxy) comes as a build secret, in no layer.
COPY constraints.txt ./
COPY container/requirements.py container/
COPY --from=manifests /manifests/ ./
# (OpenCV comes without its GUI half: a server has no screen, and the full one needs libGL. Same cv2. In the
# cuda image onnxruntime-gpu alone provides onnxruntime: installed beside the CPU build, that one's files won.)
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    python3 container/requirements.py "$VARIANT" > /tmp/requirements.txt \
    && /opt/pixlstash/bin/pip install --quiet --upgrade pip setuptools wheel \
    && /opt/pixlstash/bin/pip install --quiet -c constraints.txt -r /tmp/requirements.txt \
    && /opt/pixlstash/bin/pip uninstall --quiet --yes opencv-python \
    && /opt/pixlstash/bin/pip install --quiet --no-deps \
        "opencv-python-headless==$(sed -n 's/^opencv-python==//p' constraints.txt)" \
    && if [ "$VARIANT" = cuda ]; then \
        /opt/pixlstash/bin/pip uninstall --quiet --yes onnxruntime onnxruntime-gpu \
        && /opt/pixlstash/bin/pip install --quiet --no-deps "onnxruntime-gpu>=1.17"; \
    fi

# PixlStash's own packages, without dependencies (all installed above), then a check that nothing is missing.
# Everything is compiled ahead (the server's user cannot write __pycache__ here, so it would compile on every
# start); a file only a newer Python reads (torch ships some) is left as it is.
COPY pixlstash-core pixlstash-core
COPY pixlstash-web pixlstash-web
COPY pixlstash-plugins pixlstash-plugins
RUN --mount=type=secret,id=ca \
    if [ -s /run/secrets/ca ]; then export PIP_CERT=/run/secrets/ca; fi; \
    /opt/pixlstash/bin/pip install --quiet --no-deps --no-build-isolation \
        $(python3 container/requirements.py packages "$VARIANT" | sed 's|^|./|') \
    && /opt/pixlstash/bin/pip check | grep -v "requires opencv-python, which is not installed" \
        | grep -v "requires onnxruntime, which is not installed" \
        | grep -v "^No broken requirements" | { ! grep . ; } \
    && find /opt/pixlstash -name __pycache__ -prune -exec rm -rf {} + \
    && { /opt/pixlstash/bin/python -m compileall -q /opt/pixlstash/lib >/dev/null 2>&1 || true; }

FROM ${BASE_IMAGE}
ARG VARIANT=cpu
ARG PIXLSTASH_UID=1000
ARG PIXLSTASH_GID=1000
LABEL org.opencontainers.image.title="PixlStash" \
      org.opencontainers.image.description="A private, self-hosted picture and video library" \
      org.opencontainers.image.source="https://pixlstash.org" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.pixlstash.variant="${VARIANT}"
# onnxruntime's and usearch's wheels link against the C++ and OpenMP runtimes (a slim base may lack them).
# /backups: a volume mounted there (a fresh one copies this folder's owner) takes `pixlstash backup create`.
RUN if ! ldconfig -p | grep -q 'libgomp.so.1' || ! ldconfig -p | grep -q 'libstdc++.so.6'; then \
        apt-get update && apt-get install -y --no-install-recommends libstdc++6 libgomp1 \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --gid "$PIXLSTASH_GID" pixlstash \
    && useradd --uid "$PIXLSTASH_UID" --gid "$PIXLSTASH_GID" --home-dir /library --no-create-home \
        --shell /usr/sbin/nologin pixlstash \
    && mkdir -p /library /models /backups \
    && chown pixlstash:pixlstash /library /models /backups
COPY --from=build /opt/pixlstash /opt/pixlstash
ENV PATH=/opt/pixlstash/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIXLSTASH_LIBRARY=/library \
    PIXLSTASH_MODELS_DIR=/models \
    HF_HOME=/models/huggingface \
    PIXLSTASH_HOST=0.0.0.0 \
    PIXLSTASH_PORT=9537
USER pixlstash
WORKDIR /library
VOLUME ["/library", "/models"]
EXPOSE 9537
# 200 when the server runs with its library answering; the first start may upgrade a large library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python3", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PIXLSTASH_PORT', '9537')}/api/v1/health\", timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
CMD ["pixlstash", "serve"]
