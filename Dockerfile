# syntax=docker/dockerfile:1
# The normx-notify image: one image for the worker (`npm run worker`), the delivery server
# (`npm run server`) and the migrations (`node --import tsx scripts/migrate.ts`); the compose
# deployment in temporal-docker/ picks the command. Debian bookworm (glibc): the uWebSockets.js
# alias ships glibc builds, and the Temporal SDK's native core too.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Production dependencies from the lock file. tsx runs the TypeScript entry points at run time,
# so this image makes it a runtime dependency before omitting the dev tools.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN if [ "$(npm pkg get devDependencies.tsx)" != "{}" ]; then \
    npm pkg set "dependencies.tsx=$(npm pkg get devDependencies.tsx | tr -d '"')" \
    && npm pkg delete devDependencies.tsx; \
  fi \
  && npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force

# The browser page (web/), when the project has one: built with the dev tools, only its output
# reaches the runtime image (an empty web/dist otherwise).
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run --if-present build:web && mkdir -p web/dist

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  NPM_CONFIG_UPDATE_NOTIFIER=false \
  NPM_CONFIG_FUND=false
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
# Sources only (see .dockerignore): no tests, tools, local data or secrets.
COPY --chown=node:node package.json tsconfig.json ./
COPY --chown=node:node activities ./activities
COPY --chown=node:node client ./client
COPY --chown=node:node config ./config
COPY --chown=node:node db ./db
COPY --chown=node:node server ./server
COPY --chown=node:node worker ./worker
COPY --chown=node:node workflows ./workflows
COPY --chown=node:node scripts/migrate.ts ./scripts/
COPY --from=web --chown=node:node /app/web/dist ./web/dist
USER node
# 8000: delivery server (WebSocket, REST, the bell page); 8002: its /healthz and /metrics;
# 8001: the worker's /healthz and /metrics.
EXPOSE 8000 8001 8002
# `npm run worker` without npm in between, so that SIGTERM reaches the worker (graceful drain).
CMD ["node", "--import", "tsx", "worker/main.ts"]
