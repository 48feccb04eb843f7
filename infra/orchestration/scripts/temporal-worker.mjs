// pnpm temporal:worker --worker checkers-ingestion
// UNFINISHED: the worker service runs CheckersIngestionWorkflow and its activities on the C++ SDK
// (issue 10), which is not on this branch yet. Until then this says so and exits 3; the same
// ingestion runs without the server through `pnpm ingest:offline` / the temporal:workflow fallback.
let args = process.argv.slice(2);
if (args[0] === '--') args = args.slice(1);
const i = args.indexOf('--worker');
const worker = i >= 0 ? args[i + 1] : 'checkers-ingestion';
if (worker !== 'checkers-ingestion') {
  console.error(`temporal:worker: unknown worker "${worker}" (known: checkers-ingestion)`);
  process.exit(2);
}
console.error(
  'temporal:worker: the checkers-ingestion worker service is not built yet: it needs the C++ SDK (issue 10).\n' +
    'Run the ingestion without the server meanwhile: pnpm ingest:offline --store-id sixty60-jhb [--force-refresh]',
);
process.exit(3);
