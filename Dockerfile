# Warden service image. Build: docker compose build (or docker build -t vpn-warden .)
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bots ./bots
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/src/generated ./src/generated
COPY package.json ./
COPY bin ./bin
COPY prisma ./prisma
COPY router-scripts ./router-scripts
COPY kb ./kb
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
