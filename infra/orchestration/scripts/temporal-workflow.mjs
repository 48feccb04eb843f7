// pnpm temporal:workflow --workflow CheckersIngestionWorkflow --input '{...}'   -> workflow start
// pnpm temporal:workflow <subcommand> ...  (list, describe, show, result, terminate, ...) -> as is
// Over `temporalite workflow`. Starting without --task-queue uses checkers-ingestion; the
// address and namespace come from TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE as for the CLI.
// A CheckersIngestionWorkflow gets its SLA as execution timeout (1h) unless --execution-timeout
// is given.
// Offline fallback (the runbook's nightly job "if Temporalite offline"): with --offline, or when
// the server cannot be reached, a CheckersIngestionWorkflow start runs the same ingestion in
// process (build/tillless-ingest run) and exits non-zero if it fails.
import { binary, flagValue, reachable, runAndExit, withSla, withTaskQueue } from './lib.mjs';

const SUBCOMMANDS = new Set([
  'start', 'execute', 'describe', 'show', 'result', 'signal', 'signal-with-start', 'query', 'stack',
  'update', 'cancel', 'terminate', 'delete', 'reset', 'list', 'count', 'help', '--help', '-h',
]);

let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
const sub = args[0] && SUBCOMMANDS.has(args[0]) ? args.shift() : 'start';

if (sub === 'start' || sub === 'execute') {
  const offline = args.includes('--offline');
  args = args.filter((a) => a !== '--offline');
  const type = flagValue(args, '--workflow') ?? flagValue(args, '--type') ?? flagValue(args, '--name');
  const address = flagValue(args, '--address') ?? process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  if (type === 'CheckersIngestionWorkflow' && (offline || !(await reachable(address)))) {
    if (!offline) console.error(`temporal:workflow: Temporalite at ${address} is unreachable; running the ingestion offline`);
    const input = flagValue(args, '--input') ?? flagValue(args, '-i');
    const runArgs = ['run'];
    if (input) runArgs.push('--input', input);
    const runId = flagValue(args, '--workflow-id') ?? flagValue(args, '-w');
    if (runId) runArgs.push('--run-id', runId);
    runAndExit(binary('TILLLESS_INGEST_BIN', 'tillless-ingest'), runArgs);
  }
  runAndExit(binary('TEMPORALITE_BIN', 'temporalite'), ['workflow', sub, ...withSla(type, withTaskQueue(args))]);
}
runAndExit(binary('TEMPORALITE_BIN', 'temporalite'), ['workflow', sub, ...args]);
