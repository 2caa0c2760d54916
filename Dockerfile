# mcprag: Bun-native remote MCP server. The same image runs one instance (state in SQLite under
# MCPRAG_DATA_DIR: mount a volume there) or many (REDIS_URL set: the container keeps nothing).
FROM oven/bun:1.4.5-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.5-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
# Production also needs MCPRAG_PUBLIC_URL, MCPRAG_JWT_SECRET and MCPRAG_TOTP_KEY (and, with
# REDIS_URL, MCPRAG_SECRET): the server refuses to start without them and says what to set.
ENV MCPRAG_DATA_DIR=/app/data
RUN mkdir -p /app/data && chown bun:bun /app/data
USER bun
EXPOSE 3000
# Liveness only: /health never depends on Redis (an outage must not restart every container).
HEALTHCHECK --interval=10s --timeout=3s CMD ["bun", "-e", "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
# Exec form: Bun is PID 1 and receives SIGTERM (it drains, then exits).
CMD ["bun", "src/index.ts"]
