# The devkit's mail catcher and DynamoDB server (a moto server), standing in for the Mailpit and
# DynamoDB Local images where no registry is reachable (make compose-check): the same servers
# `make dev` runs, from the workspace's own lock. Built from the repository root; what it sees of
# it is in devkit.Dockerfile.dockerignore.
ARG BASE_IMAGE
ARG UV_IMAGE

FROM ${UV_IMAGE} AS uv

FROM ${BASE_IMAGE} AS devkit
COPY --from=uv /uv /usr/local/bin/
# No bytecode compiled ahead: moto is large and these servers import a small part of it.
ENV UV_PYTHON_PREFERENCE=only-system \
    UV_PYTHON_DOWNLOADS=never \
    UV_SYSTEM_CERTS=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_LINK_MODE=copy
WORKDIR /src
# Third-party dependencies first, keyed on the lock alone; then the devkit itself.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=/src/uv.lock \
    --mount=type=bind,source=pyproject.toml,target=/src/pyproject.toml \
    uv sync --frozen --no-install-workspace --no-dev --package ticketing-devkit \
        --extra mailcatcher --extra dynamodb
COPY . /src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package ticketing-devkit \
        --extra mailcatcher --extra dynamodb
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1
WORKDIR /

# Mailpit's command line as docker-compose.yml uses it: the server, and `/mailpit readyz`.
FROM devkit AS mailpit
COPY docker/local/devkit/mailpit.py /mailpit
EXPOSE 1025 8025
ENTRYPOINT ["/mailpit"]

# DynamoDB Local's arguments as docker-compose.yml passes them (its image runs `java`).
FROM devkit AS dynamodb
COPY docker/local/devkit/dynamodb_local.py /usr/local/bin/dynamodb-local
EXPOSE 8000
ENTRYPOINT ["dynamodb-local"]
