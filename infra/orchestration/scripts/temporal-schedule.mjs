// pnpm temporal:schedule create checkers-hourly --workflow CheckersIngestionWorkflow --schedule "..."
// pnpm temporal:schedule list | describe -s ID | toggle | trigger | delete ...
// Over `temporalite schedule`; create/update without --task-queue use checkers-ingestion.
import { binary, runAndExit, withTaskQueue } from './lib.mjs';

let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
if (args.length === 0) args = ['--help'];
const sub = args[0];
const rest = sub === 'create' || sub === 'update' ? withTaskQueue(args.slice(1)) : args.slice(1);
runAndExit(binary('TEMPORALITE_BIN', 'temporalite'), ['schedule', sub, ...rest]);
