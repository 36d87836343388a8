# The bot: `watcher run` as an unprivileged user, the store in the /data volume, the config baked
# in from config/ (mount another folder over /app/config to change it without a rebuild), and the
# token from the environment:
#   docker run -d -e TELEGRAM_BOT_TOKEN -v cocoon-watcher-data:/data cocoon-watcher
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WATCHER_CONFIG=/app/config/watcher.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install .
COPY config ./config

RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent watcher \
    && mkdir /data && chown watcher /data
USER watcher
# The config keeps the store at data/watcher.db from the working directory: /data/watcher.db.
WORKDIR /
VOLUME /data

ENTRYPOINT ["watcher"]
CMD ["run"]
