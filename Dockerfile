# syntax=docker/dockerfile:1
# The shop as one image. compose.yaml runs it beside PostgreSQL (README: "Deploying").
ARG PYTHON_IMAGE=python:3.11-slim

# --- build: the wheel of this checkout, with the build backend pinned by the lock ---------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY requirements.lock ./
RUN pip install --no-cache-dir --constraint requirements.lock setuptools
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY shop/ shop/
COPY handlers/ handlers/
COPY payments/ payments/
COPY migrations/ migrations/
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /wheels .

# --- run: the wheel and exactly the locked versions of what it needs, as a plain user -----
FROM ${PYTHON_IMAGE}
COPY --from=build /wheels /wheels
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --disable-pip-version-check \
        --constraint /tmp/requirements.lock /wheels/*.whl \
    && rm -rf /wheels /tmp/requirements.lock \
    && groupadd --system --gid 10001 shop \
    && useradd --system --uid 10001 --gid shop --create-home --home-dir /app shop
ENV PYTHONUNBUFFERED=1 \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8080
USER 10001:10001
WORKDIR /app
EXPOSE 8080
# Slim images have no curl: python asks /healthz (503 when the database does not answer).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8080') + '/healthz', timeout=4)"]
CMD ["python", "-m", "bot"]
