'use strict';
// How long an ordinary HTTP API request takes while N history long polls wait on the same port.
//   node bench/http_long_polls.cjs [N=200]      (env TEMPORALITE_BIN: the server binary)
// Starts a server, a workflow nobody works on, N `waitNewEvent` polls past its last event
// (10 ms apart), then times GET /api/v1/namespaces on a new connection; a signal then answers
// the polls. Prints the figures and the server's thread count while the polls wait.
const fs = require('node:fs');
const http = require('node:http');

const { execFileSync } = require('node:child_process');

const { startServer } = require('../tests/compat/harness');
const { request } = require('../tests/http/http');

(async () => {
  const n = Number(process.argv[2] || 200);
  const server = await startServer({ headless: false });
  try {
    const base = server.httpUrl();
    const wid = `bench-long-polls-${Date.now()}`;
    const wf = `${base}/api/v1/namespaces/default/workflows/${wid}`;
    await request('POST', wf, { body: { workflowType: { name: 'bench' }, taskQueue: { name: 'nobody-polls' } } });
    const token = (await request('GET', `${wf}/history?waitNewEvent=true`)).json.nextPageToken;
    const agent = new http.Agent({ keepAlive: false, maxSockets: n + 10 });
    let answered = 0;
    const polls = [];
    for (let i = 0; i < n; i++) {
      await new Promise((r) => setTimeout(r, 10));
      polls.push(request('GET', `${wf}/history?waitNewEvent=true&nextPageToken=${encodeURIComponent(token)}`,
        { timeoutMs: 120000, agent }).then(() => answered++, () => {}));
    }
    await new Promise((r) => setTimeout(r, 1000));
    const port = new URL(base).port;
    const listen = execFileSync('ss', ['-ltnpH', `( sport = :${port} )`]).toString();
    const pid = /pid=(\d+)/.exec(listen)?.[1];
    const threads = pid ? /Threads:\s*(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] : '?';
    const t0 = Date.now();
    const res = await request('GET', `${base}/api/v1/namespaces`, { timeoutMs: 120000, agent: new http.Agent({ keepAlive: false }) });
    const ms = Date.now() - t0;
    console.log(`${n} long polls waiting (${answered} answered early), server threads ${threads}: ` +
      `GET /api/v1/namespaces -> ${res.status} in ${ms} ms`);
    const t1 = Date.now();
    await request('POST', `${wf}/signal/wake`, { body: { workflowExecution: { workflowId: wid } } });
    await Promise.all(polls);
    console.log(`after a signal: ${answered}/${n} polls answered in ${Date.now() - t1} ms`);
  } finally {
    await server.stop('SIGTERM');
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});

