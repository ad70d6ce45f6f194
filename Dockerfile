# Tariff as a container: `docker build -t tariff .` then
#   docker run -p 50051:50051 -e TARIFF_HOST=0.0.0.0 \
#     -e TARIFF_DATABASE_URL=postgresql+psycopg://tariff@db:5432/tariff tariff
# (a non-loopback address needs TLS and identities, or --insecure: docs/operations.md).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY tariff ./tariff
COPY catalog ./catalog
COPY dsl ./dsl
COPY pricing ./pricing
COPY rules ./rules
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --system --create-home --home-dir /var/lib/tariff --shell /usr/sbin/nologin tariff
USER tariff
WORKDIR /var/lib/tariff
ENV TARIFF_PORT=50051 \
    TARIFF_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
EXPOSE 50051
# The gRPC health service: SERVING once the versions are installed.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["tariff", "health", "--server", "127.0.0.1:50051"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tariff", "serve"]
