// Installs (or migrates) pg-boss's schema in DATABASE_URL with the pinned npm pg-boss, then the
// project's migrations (retailer_item_price, pgboss.dashboard()).
import { createRequire } from 'node:module';
import path from 'node:path';
import { binary, REPO_ROOT, runAndExit } from './lib.mjs';

const require = createRequire(path.join(REPO_ROOT, 'package.json'));
const PgBoss = require('pg-boss');
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('pgboss:install: DATABASE_URL is not set');
  process.exit(2);
}
const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false });
boss.on('error', (e) => console.error('pg-boss:', e.message));
await boss.start();
await boss.stop({ graceful: false, wait: true });
runAndExit(binary('TILLLESS_INGEST_BIN', 'tillless-ingest'), ['migrate']);
