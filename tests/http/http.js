'use strict';
// A tiny HTTP client over node:http (full control over Host/Origin headers and bodies).
const http = require('node:http');

function request(method, url, { body, headers = {}, timeoutMs = 20000, agent, onSent } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(
      typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      { method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, ...(agent ? { agent } : {}),
        headers: { ...(data ? { 'content-type': 'application/json', 'content-length': data.length } : {}), ...headers } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, headers: res.headers, raw, text, json });
        });
      });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    if (onSent) req.on('finish', () => onSent(req));
    if (data) req.write(data);
    req.end();
  });
}

const b64 = (s) => Buffer.from(s).toString('base64');
/** A json/plain payload as the HTTP API takes and returns it (not shortened). */
const payload = (v) => ({ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(v)) });
const fromPayload = (p) => JSON.parse(Buffer.from(p.data, 'base64').toString('utf8'));

module.exports = { request, payload, fromPayload, b64 };
