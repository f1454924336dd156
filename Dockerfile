FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RELAYDESK_DATABASE_URL=sqlite:////data/relaydesk.db

WORKDIR /app
RUN useradd --create-home --uid 10001 relaydesk \
    && mkdir /data \
    && chown relaydesk /data

COPY pyproject.toml README.md ./
COPY service ./service
COPY intents ./intents
RUN pip install --no-cache-dir . \
    && rm -rf /root/.cache

ENV RELAYDESK_INTENTS_DIR=/app/intents
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
CMD ["relaydesk", "serve", "--host", "0.0.0.0", "--port", "8000"]
