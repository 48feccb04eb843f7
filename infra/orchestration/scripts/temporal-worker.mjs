// pnpm temporal:worker --worker checkers-ingestion [--task-queue Q] [--env-file .env]
// Starts the checkers-ingestion worker service (build/tillless-ingest worker): the C++ SDK worker
// running CheckersIngestionWorkflow and its activities on task queue checkers-ingestion, and the
// pg-boss consumer of PG_BOSS_QUEUE. Settings from .env (this directory) and the environment;
// a missing or malformed one stops it at start (exit 2) with a message naming the variable.
// SIGINT (Ctrl+C) / SIGTERM stop it gracefully; the exit code is the worker's.
import { spawn } from 'node:child_process';
import { binary } from './lib.mjs';

const WORKERS = { 'checkers-ingestion': 'checkers-ingestion' };

let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
let worker = 'checkers-ingestion';
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--worker') worker = args[++i];
  else if (args[i].startsWith('--worker=')) worker = args[i].slice('--worker='.length);
  else rest.push(args[i]);
}
if (!(worker in WORKERS)) {
  console.error(`temporal:worker: unknown worker "${worker}" (known: ${Object.keys(WORKERS).join(', ')})`);
  process.exit(2);
}
const child = spawn(binary('TILLLESS_INGEST_BIN', 'tillless-ingest'), ['worker', ...rest], { stdio: 'inherit' });
// Ctrl+C reaches the whole process group; a SIGTERM sent to this process alone is passed on.
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('error', (e) => {
  console.error(`temporal:worker: ${e.message}`);
  process.exit(2);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
