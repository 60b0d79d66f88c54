# syntax=docker/dockerfile:1
# One image for the gateway, the fetcher, the migrations and the cimd CLI:
#   docker build -t cimd-gateway:dev .
#   docker run cimd-gateway:dev gateway | fetcher | migrate | cimd <args>
# Health: the image serves two roles on different ports, so the probes live where the role is
# known: the healthchecks in docker-compose.yml and the liveness/readiness probes in k8s/
# (GET /healthz and /readyz on PORT for the gateway, on FETCHER_PORT for the fetcher).
ARG NODE_IMAGE=node:20-bookworm-slim

# Build: every dependency, compile the three apps into dist/ (proto files included).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY apps ./apps
COPY libs ./libs
COPY proto ./proto
RUN npm run build \
  # Test helpers are compiled with the libraries but never imported by the apps.
  && rm -rf dist/libs/testing

# Production dependencies only (no compiler, no test tools).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
RUN groupadd --system --gid 10001 cimd \
  && useradd --system --uid 10001 --gid cimd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin cimd
# Owned by root and read-only for the app user: the running process cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY docker/entrypoint.js ./docker/entrypoint.js
USER 10001:10001
EXPOSE 3000 50051 3001
ENTRYPOINT ["node", "docker/entrypoint.js"]
CMD ["gateway"]
