// pnpm ingest:offline --store-id sixty60-jhb [--force-refresh] [--run-id ID]
// The ingestion in process, without the server (build/tillless-ingest run); settings from .env.
import { binary, runAndExit } from './lib.mjs';

let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
runAndExit(binary('TILLLESS_INGEST_BIN', 'tillless-ingest'), ['run', ...args]);
