# predictd's container image. Build: `make image` (podman or docker; makes the
# debian:bookworm-slim base locally when no registry has it). Check: `make test-image`.
# docs/deployment.md tells how to run it.
#
#   build stage    compiles with the Debian packages scripts/bootstrap names (`bootstrap build`)
#   runtime stage  debian:bookworm-slim + libuv1 + libjansson4, the stripped binary, the demo
#                  models in /models, user predictd (uid 10001), listening on 0.0.0.0:8000
#
# Every `predictd serve` option can be set with its PREDICTD_* variable (`docker run -e
# PREDICTD_WORKERS=4 ...`) or given as arguments after the image name (`... serve
# --workers 4 /models`). Change the port with PREDICTD_PORT: the HEALTHCHECK reads it.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
COPY scripts/bootstrap /src/scripts/bootstrap
RUN /src/scripts/bootstrap build && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt /src/
COPY src /src/src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null \
 && cmake --build /build -j"$(nproc)" --target predictd \
 && strip /build/predictd \
 && /build/predictd --version

FROM ${BASE}
# The binary's shared libraries from Debian (so scanners see them), no apt lists left.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libuv1 libjansson4 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin predictd
COPY --from=build /build/predictd /usr/local/bin/predictd
COPY models/iris.json models/seed.json /models/
# GET /docs: Swagger UI's four files (from the npm package scripts/bootstrap installs).
COPY web/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
     web/node_modules/swagger-ui-dist/swagger-ui.css \
     web/node_modules/swagger-ui-dist/favicon-32x32.png \
     web/node_modules/swagger-ui-dist/favicon-16x16.png /usr/share/predictd/docs/

# The model repository: mount your own over it (a volume, a bind mount, a ConfigMap or
# KServe's /mnt/models with PREDICTD_MODELS=/mnt/models). Files are read, never written.
VOLUME ["/models"]
ENV PREDICTD_HOST=0.0.0.0 \
    PREDICTD_PORT=8000 \
    PREDICTD_MODELS=/models \
    PREDICTD_DOCS_DIR=/usr/share/predictd/docs
USER 10001:10001
EXPOSE 8000
# SIGTERM drains: readiness turns 503, requests in flight are answered (up to
# PREDICTD_SHUTDOWN_TIMEOUT, 30 s), then exit 0.
STOPSIGNAL SIGTERM
# No curl in the image: bash's /dev/tcp asks GET /v2/health/ready (200 once models are
# loaded and while not draining).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${PREDICTD_PORT:-8000} && printf 'GET /v2/health/ready HTTP/1.0\\r\\n\\r\\n' >&3 && read -r -t 2 line <&3 && [[ $line == *' 200 '* ]]"]
ENTRYPOINT ["/usr/local/bin/predictd"]
CMD ["serve"]
