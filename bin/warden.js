#!/usr/bin/env node
// The operator CLI as an installed command (`npx warden ...` after `npm run build`).
await import('../dist/src/cli/main.js');
