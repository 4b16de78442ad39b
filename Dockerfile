# syntax=docker/dockerfile:1.7
# One image per app, from one build: `docker build --target receiver .` (or worker, dashboard).

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
ENV CI=true PNPM_HOME=/pnpm PATH=/pnpm:$PATH
# The exact pnpm of package.json's "packageManager" (newer pins fail on some registries).
RUN npm install --global pnpm@12.4.2
WORKDIR /repo
# Fetch from the lockfile alone, so this layer is cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store pnpm fetch --frozen-lockfile
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/root/.local/share/pnpm/store \
    pnpm install --frozen-lockfile --offline \
 && pnpm build \
 && scripts/deploy-app.sh receiver /out/receiver \
 && scripts/deploy-app.sh worker /out/worker \
 && scripts/deploy-app.sh dashboard /out/dashboard

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# The official image's unprivileged user (uid 1000). The app files below stay owned by root, so
# the process cannot change its own code.
USER node

FROM runtime AS receiver
COPY --from=build /out/receiver /app
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The flags of APPS.receiver.nodeFlags (packages/local-services/src/apps.ts), as benchmarked.
CMD ["node", "--max-semi-space-size=32", "--enable-source-maps", "dist/server.js"]

FROM runtime AS worker
COPY --from=build /out/worker /app
EXPOSE 9091
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.METRICS_PORT || 9091}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/main.js"]

FROM runtime AS dashboard
# The generated dashboard password lives here (a volume in compose); a fresh volume takes this
# directory's owner, so the dashboard's user can write it, and nobody else can read it.
USER root
RUN mkdir -p /var/lib/imsync-dashboard && chown node:node /var/lib/imsync-dashboard && chmod 700 /var/lib/imsync-dashboard
USER node
COPY --from=build /out/dashboard /app
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/server.js"]
