# One image for intake, router and notifier; compose picks the process with `command:`.
#   docker build -t zhitong:local .
#   docker run --rm -e ZHITONG_REDIS_URL=redis://… -p 8080:8080 zhitong:local python -m services.intake

FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY zhitong ./zhitong
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ZHITONG_HTTP_HOST=0.0.0.0 \
    ZHITONG_CONFIG=/app/config/demo.yaml
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin zhitong
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
WORKDIR /app
COPY --chown=root:root config ./config
USER zhitong
EXPOSE 8080 8081 8082
# Same probe as compose: /readyz on the service's own port (ZHITONG_HTTP_PORT).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as u; u.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('ZHITONG_HTTP_PORT', '8080'), timeout=2)"]
CMD ["python", "-m", "services.intake"]
