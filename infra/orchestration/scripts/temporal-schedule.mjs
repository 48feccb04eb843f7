// pnpm temporal:schedule create checkers-hourly --workflow CheckersIngestionWorkflow --schedule "..."
// pnpm temporal:schedule list | describe -s ID | toggle | trigger | delete ...
// Over `temporalite schedule`; create/update without --task-queue use checkers-ingestion, and a
// CheckersIngestionWorkflow without --execution-timeout gets the 1h SLA and, without --input,
// {"storeId": INGEST_STORE_ID or sixty60-jhb, "forceRefresh": false}.
import { binary, flagValue, runAndExit, withDefaultInput, withSla, withTaskQueue } from './lib.mjs';

let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
if (args.length === 0) args = ['--help'];
const sub = args[0];
const type = flagValue(args, '--workflow') ?? flagValue(args, '--type') ?? flagValue(args, '--name');
const rest = sub === 'create' || sub === 'update'
  ? withDefaultInput(type, withSla(type, withTaskQueue(args.slice(1))))
  : args.slice(1);
runAndExit(binary('TEMPORALITE_BIN', 'temporalite'), ['schedule', sub, ...rest]);
