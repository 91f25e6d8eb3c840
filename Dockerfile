# syntax=docker/dockerfile:1
# next-sse: the production server in a small image. Built in three stages: dependencies,
# the build (`npm run build`: the app, our server and the self-contained .next/standalone
# folder), and a runtime stage that copies only that folder.
# Not built in next-sse's own CI (no container engine there); the folder it copies is
# started and tested there (tests/e2e/quickstart.spec.ts, "the deploy folder ...").

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=3000 HOSTNAME=0.0.0.0
# The deploy folder holds server.js, the traced node_modules, .next, public and static.
COPY --from=build --chown=node:node /app/.next/standalone ./
USER node
EXPOSE 3000
# SIGTERM reaches node directly (exec form): streams end with a reconnect hint, the
# listener closes, and the process exits within SSE_SHUTDOWN_TIMEOUT_MS.
STOPSIGNAL SIGTERM
# The heap sizes `npm start` uses (see the README, Deployment: "Node's flags").
CMD ["node", "--min-semi-space-size=64", "--max-semi-space-size=64", "--initial-old-space-size=128", "server.js"]
