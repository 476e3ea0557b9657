# syntax=docker/dockerfile:1
# Picus as a small, non-root image. Dependencies come from requirements.txt (hash-locked,
# `make lock`), so two builds of one commit install the same files.
#   docker build -t picus .
#   docker run --rm -p 8000:8000 -e DATABASE_URL=postgresql+psycopg2://... picus

# The base image by tag and digest: a rebuild gets exactly the same base until Dependabot
# proposes a new digest (.github/dependabot.yml). One digest for both stages.
# --- build: turn the locked dependencies and Picus itself into wheels -------------------
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# The lock alone first: this layer stays cached until a dependency changes.
COPY requirements.txt ./
RUN pip wheel --require-hashes --only-binary=:all: --wheel-dir /wheels -r requirements.txt
COPY pyproject.toml README.md ./
COPY picus ./picus
COPY openapi ./openapi
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

# --- runtime: install the wheels into a clean image; no compilers, no wheel files left --
FROM python:3.13-slim@sha256:7c61056e61ac89e852de05f3dc6fa51a6dd2181797bceed46aa725dd7cb2cd3b AS runtime
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/picus/bin:$PATH
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m venv /opt/picus \
    && /opt/picus/bin/pip install --no-cache-dir --no-index --find-links=/wheels /wheels/*.whl \
    && /opt/picus/bin/pip check \
    && groupadd --system --gid 10001 picus \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin picus
# Bytecode was compiled at install time; the root filesystem may be read-only at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PICUS_WORKERS=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness only (no database call); Compose checks readiness (/readyz) itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# Exec form, no shell in between: SIGTERM reaches uvicorn, which stops accepting, finishes
# in-flight requests and exits 0. Worker processes: PICUS_WORKERS (the same CLI as the tests).
CMD ["picus", "serve", "--host", "0.0.0.0", "--port", "8000"]
