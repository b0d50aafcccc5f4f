# syntax=docker/dockerfile:1
#
# One server image, four commands (compose.yaml picks one per service):
#   node server/dist/entrypoints/api.js       HTTP API
#   node server/dist/entrypoints/worker.js    BullMQ worker
#   node server/dist/entrypoints/cron.js      schedules: finds due work and enqueues it
#   node server/dist/entrypoints/migrate.js   one-shot: applies pending migrations, exits 0
# plus the operator CLI: node server/dist/cli.js <command>.
#
# Targets: `runtime` (the default, last stage) is the server image; `backup` is the small image of the
# backup service (pg_dump of the same major version as the database, with scripts/backup.sh baked in,
# so nothing has to be bind-mounted from a checkout that Dokploy replaces on every deploy).

# Keep the Node version in step with .nvmrc (major) and scripts/node24.sh (exact).
ARG NODE_IMAGE=node:24.21.0-trixie-slim
# Keep in step with the postgres service in compose.yaml (same major, so pg_dump matches the server).
ARG POSTGRES_IMAGE=postgres:16-alpine

# ---- build: full dependency tree, compile TypeScript to server/dist ---------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# npm ci checks the lockfile against every workspace's package.json, so all of them come in,
# though only the server workspace is installed.
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
COPY docs-site/package.json docs-site/
RUN npm ci -w server --include-workspace-root=false --no-audit --no-fund
COPY tsconfig.base.json ./
COPY server/tsconfig.json server/tsconfig.build.json server/
COPY server/src server/src
RUN npm run build -w server

# ---- deps: production dependencies only -------------------------------------------------------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY server/package.json server/
COPY web/package.json web/
COPY docs-site/package.json docs-site/
# npm hoists almost everything to /app/node_modules; server/node_modules is created so that the COPY
# in the runtime stage works whether or not anything was left un-hoisted.
RUN npm ci --omit=dev -w server --include-workspace-root=false --no-audit --no-fund \
 && npm cache clean --force \
 && mkdir -p server/node_modules

# ---- backup: pg_dump/pg_restore + scripts, run by the backup service --------------------------------
FROM ${POSTGRES_IMAGE} AS backup
COPY --chmod=0755 scripts/backup.sh /usr/local/bin/backup.sh
COPY --chmod=0755 scripts/restore.sh /usr/local/bin/restore.sh
# A named volume mounted here starts with this directory's owner, so the unprivileged user can write.
RUN mkdir -p /backups && chown postgres:postgres /backups
USER postgres
WORKDIR /backups
ENV BACKUP_DIR=/backups
ENTRYPOINT ["/usr/local/bin/backup.sh"]
CMD ["--schedule"]
HEALTHCHECK --interval=5m --timeout=30s --start-period=30m --retries=2 CMD ["/usr/local/bin/backup.sh", "--check"]

# ---- runtime: the server image (default target) -----------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# Files stay owned by root and are only readable by the `node` user (uid 1000) the processes run as:
# a compromised process cannot rewrite the code it runs.
COPY package.json ./
COPY server/package.json server/
COPY --from=deps /app/node_modules node_modules
COPY --from=deps /app/server/node_modules server/node_modules
COPY --from=build /app/server/dist server/dist
# NODE_ENV is deliberately not set: the processes are configured by server/src/config alone.
# In a container the API must listen on all interfaces (only the compose networks reach it).
ENV HOST=0.0.0.0 \
    PORT=3000
# Uploaded CSV imports (a volume shared by the api and the worker in compose.yaml); a new named volume
# takes this folder's owner, so the node user can write it.
RUN mkdir -p /var/lib/subscribe-flow/imports && chown node:node /var/lib/subscribe-flow/imports
USER node
EXPOSE 3000
# No curl in the image: Node's own fetch probes the process. HEALTHCHECK_URL lets the worker and cron
# point it at their metrics listener; compose.yaml sets an explicit healthcheck per service anyway.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL || 'http://127.0.0.1:' + (process.env.PORT || '3000') + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=192", "server/dist/entrypoints/api.js"]
