# syntax=docker/dockerfile:1
# Build: the locked environment, without development tools.
FROM python:3.11-slim-bookworm AS build
ENV UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY portal ./portal
COPY templates ./templates
COPY static ./static
RUN uv sync --frozen --no-dev

# Run: the same paths, a user without privileges, nothing to compile.
FROM python:3.11-slim-bookworm
RUN groupadd --system portal && useradd --system --gid portal --home-dir /app portal \
    && mkdir -p /app/var && chown portal:portal /app/var
WORKDIR /app
COPY --from=build --chown=root:root /app /app
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 \
    PORTAL_DATABASE_URL=sqlite:////app/var/portal.sqlite3
USER portal
VOLUME ["/app/var"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]
# Facing a network needs PORTAL_BASE_URL=https://... (sign-in cookies are Secure; put the
# container behind a TLS proxy) and PORTAL_SECRET_KEY when several containers share a database.
CMD ["sh", "-c", "portal migrate && exec portal serve --host 0.0.0.0 --port 8000"]
