# tutorbot: the bot and its explanation worker (experiments run as child processes).
FROM python:3.11-slim

# CPU wheels by default (small); build with
#   --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124  for a CUDA image.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
# The packs are part of the package (used when QUESTIONS_PATH is unset): copied before the
# install so that it carries them.
COPY questions ./questions
RUN pip install --extra-index-url "$TORCH_INDEX" ".[worker]"

RUN useradd --create-home tutor && mkdir -p /data && chown tutor /data
USER tutor
# Everything the bot writes goes to the /data volume (/app belongs to root). docker-compose.yml
# sets these again under `environment:`, because its env_file (.env) would override them here.
ENV DATABASE_PATH=/data/tutorbot.db WORKER_CACHE_DIR=/data/cache
VOLUME ["/data"]
CMD ["tutorbot", "run"]
