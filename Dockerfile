# syntax=docker/dockerfile:1
# ts-serving as a container that behaves like the tensorflow/serving image:
#   docker build -t ts-serving .
#   docker run -p 8501:8501 -p 8500:8500 -v "$PWD/models:/models" -e MODEL_NAME=ranking ts-serving
# Two stages: the build stage compiles TypeScript with the dev dependencies; the runtime stage holds
# only dist/ and the production dependencies, runs as a non-root user and checks its own health.
# See docs/deployment.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: npm ci (with dev dependencies) + tsc ---------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would build before the sources are copied; no dependency needs its
# install script to compile (onnxruntime-node's CUDA download is skipped by .npmrc anyway).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- runtime: production dependencies, dist/, non-root ---------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Production dependencies only. onnxruntime-node ships its CPU binaries for every OS and CPU; keep
# the one for this image's architecture (about 250 MB less).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && case "$(uname -m)" in aarch64|arm64) ort_arch=arm64 ;; *) ort_arch=x64 ;; esac \
 && ort_bin=node_modules/onnxruntime-node/bin/napi-v6 \
 && find "$ort_bin" -mindepth 2 -maxdepth 2 ! -path "$ort_bin/linux/$ort_arch" -exec rm -rf {} + \
 && npm cache clean --force \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /src/dist ./dist
COPY --chmod=755 deploy/docker/entrypoint.sh /usr/local/bin/ts_serving_entrypoint.sh
COPY deploy/docker/healthcheck.mjs /usr/local/lib/ts-serving/healthcheck.mjs
COPY deploy/docker/monitoring.config /etc/ts-serving/monitoring.config
# `ts-serving` on PATH, as `npm install -g` would put it; the model directory as in tensorflow/serving.
RUN chmod 755 dist/cli/main.js \
 && ln -s /app/dist/cli/main.js /usr/local/bin/ts-serving \
 && mkdir -p /models \
 && chown 1000:1000 /models \
 && ts-serving --version

# The tensorflow/serving image's environment: GRPC_PORT and PORT are the ports, the model is
# ${MODEL_BASE_PATH}/${MODEL_NAME}; arguments to `docker run` are appended to the server's flags.
ENV GRPC_PORT=8500 \
    PORT=8501 \
    MODEL_BASE_PATH=/models \
    MODEL_NAME=model
# gRPC
EXPOSE 8500
# REST (and /monitoring/prometheus/metrics with --monitoring_config_file=/etc/ts-serving/monitoring.config)
EXPOSE 8501

# The base image's `node` user, by number so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

# Healthy once ${MODEL_NAME} has a version AVAILABLE on the REST port ${PORT}. Nothing listens
# during the initial load, hence the start period.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/ts-serving/healthcheck.mjs"]

ENTRYPOINT ["/usr/local/bin/ts_serving_entrypoint.sh"]
