# tutorbot's images, one Dockerfile, two targets:
#   bot   the bot alone, without torch. Enough for EXPLAIN_BACKEND=queue, where
#         `tutorbot worker` containers run the experiments: the bot process never imports torch.
#   full  the bot plus its explanation worker (torch, torchvision, matplotlib, scikit-learn):
#         what `tutorbot worker` needs, and the bot on its own with EXPLAIN_BACKEND=local.
#         The default target (`docker build .`). CPU wheels by default (small); build with
#           --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu126  for a CUDA image.
FROM python:3.11-slim AS bot

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
# The packs are part of the package (used when QUESTIONS_PATH is unset): copied before the
# install so that it carries them.
COPY questions ./questions
RUN pip install .

RUN useradd --create-home tutor && mkdir -p /data && chown tutor /data
USER tutor
# Everything tutorbot writes goes to the /data volume (/app belongs to root). docker-compose.yml
# sets these again under `environment:`, because its env_file (.env) would override them here.
ENV DATABASE_PATH=/data/tutorbot.db WORKER_CACHE_DIR=/data/cache
VOLUME ["/data"]
CMD ["tutorbot", "run"]

FROM bot AS full
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
USER root
RUN pip install --extra-index-url "$TORCH_INDEX" ".[worker]"
USER tutor
