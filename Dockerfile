# Every service's image, from the repository root (the whole uv workspace is the context); the
# build argument SERVICE names the service's folder under services/:
#   docker build --build-arg SERVICE=auth -t ticketing/auth:dev .
# No `# syntax=` line: the Dockerfile frontend built into Docker Engine (20.10 and later) is
# enough, so a build fetches no frontend image from a registry.

# Where Python and uv come from; pin or swap them with --build-arg.
ARG BASE_IMAGE=python:3.12-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# What of the workspace the service is made of: its distribution's name and its members (its
# folder, the libraries it uses; uv.lock says which). The build stage copies them by content, so a
# change to another service leaves this image's layers as they are.
FROM ${BASE_IMAGE} AS members
ARG SERVICE
COPY . /src
WORKDIR /src
RUN python3 docker/service.py package "$SERVICE" >/package \
    && python3 docker/service.py members "$SERVICE" /members

FROM ${BASE_IMAGE} AS build
ARG SERVICE
COPY --from=uv /uv /uvx /usr/local/bin/
# The base image's own interpreter, never a downloaded one: the runtime stage has only that.
# TLS trusts the base image's certificate store (where a proxy's CA goes, if one is needed).
ENV UV_PYTHON_PREFERENCE=only-system \
    UV_PYTHON_DOWNLOADS=never \
    UV_SYSTEM_CERTS=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src

# The service's third-party dependencies, in a layer of their own that only a change of the lock
# (or of the service) rebuilds; the uv cache is shared by every service's build. With --frozen uv
# installs from uv.lock alone, so no member's pyproject needs to be present.
COPY --from=members /package /opt/package
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    uv sync --frozen --no-install-workspace --no-dev --package "$(cat /opt/package)"

# The workspace members the service needs, installed as wheels (not links back to /src), the
# script that serves its app and the one that runs its setup jobs.
COPY --from=members /members /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package "$(cat /opt/package)" \
    && python3 docker/service.py launcher "$SERVICE" >/opt/venv/bin/serve \
    && python3 docker/service.py setup "$SERVICE" >/opt/venv/bin/setup \
    && chmod 0755 /opt/venv/bin/serve /opt/venv/bin/setup

FROM ${BASE_IMAGE}
RUN useradd --user-group --uid 10001 --no-create-home --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
# uvicorn reads UVICORN_*; FORWARDED_ALLOW_IPS="" leaves X-Forwarded-For to the service's own
# TRUSTED_PROXY_HOPS.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    UVICORN_HOST=0.0.0.0 \
    UVICORN_PORT=8000 \
    FORWARDED_ALLOW_IPS=""
USER app
EXPOSE 8000
ARG SERVICE
LABEL org.opencontainers.image.title="ticketing ${SERVICE}"
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('UVICORN_PORT', '8000'), timeout=2)"]
# `serve` runs uvicorn on the service's app (docker/service.py wrote it; `setup`, its setup jobs,
# which compose runs first). A service's one-off jobs (migrate, seed, create-table) run from its
# image too:  python -m <package> <job>
CMD ["serve"]
