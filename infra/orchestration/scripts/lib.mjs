// Shared helpers of the pnpm scripts: where the project's binaries are, and running them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '..', '..');
export const DEFAULT_TASK_QUEUE = 'checkers-ingestion';

export function binary(envName, name) {
  const p = process.env[envName] || path.join(REPO_ROOT, 'build', name);
  if (!fs.existsSync(p)) {
    console.error(`${name} not found at ${p}: build it with scripts/build.sh (or set ${envName})`);
    process.exit(2);
  }
  return p;
}

/** Runs a binary with inherited stdio; exits this process with its status. */
export function runAndExit(bin, args) {
  const r = spawnSync(bin, args, { stdio: 'inherit' });
  if (r.error) {
    console.error(`${path.basename(bin)}: ${r.error.message}`);
    process.exit(2);
  }
  process.exit(r.status ?? 1);
}

/** Adds `--task-queue checkers-ingestion` unless a task queue is given. */
export function withTaskQueue(args) {
  const has = args.some((a) => a === '-t' || a === '--task-queue' || a.startsWith('--task-queue='));
  return has ? args : [...args, '--task-queue', process.env.TEMPORAL_TASK_QUEUE || DEFAULT_TASK_QUEUE];
}

/** The SLA of a CheckersIngestionWorkflow run (its execution timeout) unless one is given. */
export const INGESTION_SLA = '1h';
export function withSla(workflowType, args) {
  if (workflowType !== 'CheckersIngestionWorkflow') return args;
  const has = args.some((a) => a === '--execution-timeout' || a.startsWith('--execution-timeout='));
  return has ? args : [...args, '--execution-timeout', INGESTION_SLA];
}

/**
 * A CheckersIngestionWorkflow schedule needs an input (the runbook's line gives none): without
 * --input it ingests INGEST_STORE_ID (default sixty60-jhb, the runbook's store) with
 * forceRefresh=false, so unchanged pages are skipped by conditional requests.
 */
export function withDefaultInput(workflowType, args) {
  if (workflowType !== 'CheckersIngestionWorkflow') return args;
  if (args.some((a) => a === '--input' || a === '-i' || a.startsWith('--input='))) return args;
  const input = JSON.stringify({ storeId: process.env.INGEST_STORE_ID || 'sixty60-jhb', forceRefresh: false });
  console.error(`temporal:schedule: no --input given; the schedule's runs use ${input}`);
  return [...args, '--input', input];
}

/** True when a TCP connection to host:port succeeds within timeoutMs. */
export function reachable(address, timeoutMs = 2000) {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(i + 1));
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** The value of `--name X` / `--name=X` in args, or undefined. */
export function flagValue(args, name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}
