'use strict';
// Helpers shared by the operations tests: run the CLI binary, a TS SDK worker.
const path = require('node:path');
const { spawn } = require('node:child_process');
const { serverBinary } = require('../compat/harness');

/** Runs `temporalite ...args`; resolves {code, stdout, stderr}. */
function cli(args, { env, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(serverBinary(), args, { env: { ...process.env, ...(env ?? {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c) => (stdout += c));
    p.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`temporalite ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a worker for tests/ops/workflows.js on `taskQueue`; returns {worker, done, stop}. */
async function startWorker(address, taskQueue, activities, workflowBundle) {
  const { Worker, NativeConnection } = require('@temporalio/worker');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    namespace: 'default',
    taskQueue,
    workflowBundle,
    activities,
    maxCachedWorkflows: 50,
  });
  const done = worker.run();
  return {
    worker,
    async stop() {
      worker.shutdown();
      await done.catch(() => {});
      await connection.close();
    },
  };
}

async function bundle() {
  const { bundleWorkflowCode } = require('@temporalio/worker');
  return bundleWorkflowCode({ workflowsPath: path.join(__dirname, 'workflows.js'), logger: quietLogger() });
}

function quietLogger() {
  const { DefaultLogger } = require('@temporalio/worker');
  return new DefaultLogger('WARN');
}

module.exports = { cli, startWorker, bundle };
