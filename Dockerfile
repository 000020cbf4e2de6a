# tokenwarden: Kubernetes TokenReview and SubjectAccessReview, answered as kube-apiserver would.
#
# BASE is any Node.js 20 image (20.18.1 or later: undici 7) with node and npm on PATH and a POSIX shell for the build stages. The run stage uses
# neither npm nor the shell: its entrypoint is node running the tokenwarden CLI, so `docker run IMAGE serve ...`,
# `... IMAGE dev` and `... IMAGE verify ...` work as the command line does. scripts/image/build.sh builds it
# without a Docker engine, from a local Debian base (scripts/image/base.sh) passed as BASE.
ARG BASE=docker.io/library/node:20.20.2-bookworm-slim

FROM ${BASE} AS build
# npm's CA bundle, when the registry is reached through a TLS-inspecting proxy: the build mounts the host's bundle
# and names it here, so it is used by this stage and never copied into a layer.
ARG NPM_CONFIG_CAFILE
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${BASE} AS deps
ARG NPM_CONFIG_CAFILE
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${BASE}
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="tokenwarden" \
      org.opencontainers.image.description="Kubernetes TokenReview and SubjectAccessReview, answered exactly as kube-apiserver would." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json LICENSE ./
# A numeric user and group, so Kubernetes' runAsNonRoot can check it without an /etc/passwd entry.
USER 65532:65532
EXPOSE 8443
# SIGTERM starts the drain: /readyz fails for --shutdown-delay-duration, then in-flight requests finish.
STOPSIGNAL SIGTERM
# V8 shrinks its young generation to 1 MiB at the first GC after about 14 s of little allocation, and lowers the old
# generation's limit with it: the next burst then scavenges several times as often, promotes what is in flight and
# pays two mark-compacts. A 4 MiB floor keeps a quiet server ready for its next burst (docs/benchmarks.md: p99 at
# saturation after 20 s idle 18.65 -> 10.13 ms) for about 7 MiB more resident memory when idle. NODE_OPTIONS cannot
# carry this flag.
ENTRYPOINT ["node", "--min-semi-space-size=4", "/app/dist/cli/main.js"]
CMD ["--help"]
