// Shared by the console's browser tests (console_test.mjs,
// dashboard_test.mjs): arguments, pass/fail bookkeeping, clean-up of what a
// test started, a fake SMSC (Kannel's sendsms), the real gateway on a free
// loopback port, the operator API and USSD over HTTP, and browser helpers.
// Everything a test starts is stopped by run(), also on failure.

import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

export const DATA_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
export const API = '/api/operator/v1';

// ------------------------------------------------------------------ arguments

// --gateway, --repo, --chromium, --keep-tmp, and with `screenshots`
// --screenshots (default <repo>/build/console-screenshots).
export function parseArgs(argv, { script, screenshots = false }) {
  const out = { chromium: process.env.CHROMIUM_PATH || '/usr/bin/chromium', keepTmp: !!process.env.KEEP_TMP };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--gateway') out.gateway = argv[++i];
    else if (a === '--repo') out.repo = argv[++i];
    else if (a === '--screenshots' && screenshots) out.shots = argv[++i];
    else if (a === '--chromium') out.chromium = argv[++i];
    else if (a === '--keep-tmp') out.keepTmp = true;
    else { console.error(`unknown argument: ${a}`); process.exit(2); }
  }
  if (!out.gateway || !out.repo) {
    console.error(`usage: node ${script} --gateway <hotline-gateway> --repo <repo root>` +
      `${screenshots ? ' [--screenshots DIR]' : ''} [--chromium PATH] [--keep-tmp]`);
    process.exit(2);
  }
  out.gateway = path.resolve(out.gateway);
  out.repo = path.resolve(out.repo);
  if (screenshots) out.shots = path.resolve(out.shots || path.join(out.repo, 'build', 'console-screenshots'));
  return out;
}

// ------------------------------------------------------------------ results

export const results = { passed: 0, failures: [], warnings: [] };
export function pass(name, detail) {
  results.passed++;
  console.log(`PASS ${name}${detail ? ` — ${detail}` : ''}`);
}
export function softFail(name, detail) {
  results.failures.push(`${name}: ${detail}`);
  console.log(`FAIL ${name} — ${detail}`);
}
export function check(name, ok, detail, failDetail) {
  if (ok) pass(name, detail);
  else softFail(name, failDetail || detail || 'check failed');
  return ok;
}
// Something off in the gateway's answers that the console copes with:
// printed, not counted as a failure.
export function warn(msg) {
  results.warnings.push(msg);
  console.log(`WARN ${msg}`);
}
export class StepFailure extends Error {}
// A step whose failure stops the run (later steps depend on it).
export async function step(name, fn) {
  let detail;
  try {
    detail = await fn();
  } catch (err) {
    softFail(name, err && err.message ? err.message : String(err));
    throw new StepFailure(name);
  }
  pass(name, detail);
  return detail;
}
// A step whose failure is counted but does not stop the run.
export async function part(name, fn) {
  try {
    pass(name, await fn());
  } catch (err) {
    softFail(name, err && err.message ? err.message : String(err));
  }
}
export function assert(cond, msg) { if (!cond) throw new Error(msg); }

// ------------------------------------------------------------------ clean-up

export const cleanups = [];
let gatewayChild = null;
let cleanedUp = false;
export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  for (const fn of cleanups.reverse()) {
    try {
      await Promise.race([fn(), new Promise((r) => setTimeout(r, 5000))]);
    } catch (e) { /* keep cleaning */ }
  }
}
// Last resort when node itself goes down: never leave the gateway running.
process.on('exit', () => {
  if (gatewayChild && gatewayChild.exitCode === null && gatewayChild.signalCode === null) {
    try { gatewayChild.kill('SIGKILL'); } catch (e) { /* gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    console.error(`got ${sig}, cleaning up`);
    await cleanup();
    process.exit(1);
  });
}

// ------------------------------------------------------------------ fake SMSC (Kannel sendsms)

// Accepts every message as Kannel does and keeps each request
// ({at, method, url, body, params}: query and form fields together).
export function startFakeSmsc() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url, 'http://127.0.0.1');
      const params = new URLSearchParams(url.search);
      const ct = String(req.headers['content-type'] || '');
      if (ct.includes('application/x-www-form-urlencoded')) {
        for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      } else if (ct.includes('json')) {
        try {
          for (const [k, v] of Object.entries(JSON.parse(body))) params.append(k, String(v));
        } catch (e) { /* keep the raw body */ }
      }
      requests.push({ at: Date.now(), method: req.method, url: req.url, body, params });
      res.writeHead(202, { 'Content-Type': 'text/plain' });
      res.end('0: Accepted for delivery');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(() => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }));
      resolve({ port: server.address().port, requests });
    });
  });
}

// ------------------------------------------------------------------ gateway

export const gatewayLog = [];
export function logTail(n = 60) { return gatewayLog.slice(-n).join('\n'); }

// The shipped menus, partners, rules and reply templates by absolute path
// (a relative one would be relative to this config file, in the temp dir);
// SMS through the fake SMSC; the data key from the environment.
export function writeConfig(args, tmp, smscPort) {
  const repo = args.repo;
  const lines = [
    'server: {address: 127.0.0.1, port: 0}',
    `store: {sqlite_path: ${JSON.stringify(path.join(tmp, 'gateway.db'))}}`,
    `menus: {directory: ${JSON.stringify(path.join(repo, 'menus'))}}`,
    'ussd: {token: test-ussd-token}',
    'sms:',
    '  poll_interval_ms: 100',
    '  channels:',
    '    kannel:',
    '      auth: token',
    '      token: test-token',
    `      send_url: http://127.0.0.1:${smscPort}/cgi-bin/sendsms`,
    '      send_username: hotline',
    '      send_password: secret',
    '      sender: "5555"',
    'referrals:',
    `  partners_file: ${JSON.stringify(path.join(repo, 'config', 'partners.yaml'))}`,
    `  rules_directory: ${JSON.stringify(path.join(repo, 'referral-rules'))}`,
    '  notify_channel: kannel',
    'privacy:',
    '  data_key_env: GATEWAY_DATA_KEY',
    'console:',
    `  directory: ${JSON.stringify(path.join(repo, 'gateway', 'console'))}`,
    `  reply_templates: ${JSON.stringify(path.join(repo, 'config', 'reply-templates.yaml'))}`,
  ];
  const file = path.join(tmp, 'gateway.yaml');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

// `hotline-gateway operator add`, as an administrator would run it;
// user = {password, display, role}.
export function addOperator(args, config, username, user) {
  const r = spawnSync(args.gateway, ['operator', 'add', '--config', config, '--username', username,
    '--display-name', user.display, '--role', user.role], {
    env: { ...process.env, GATEWAY_DATA_KEY: DATA_KEY, GATEWAY_OPERATOR_PASSWORD: user.password },
    encoding: 'utf8', timeout: 30_000,
  });
  if (r.error) throw new Error(`operator add ${username}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`operator add ${username} (role ${user.role}) exited with ${r.status} (signal ${r.signal})\n` +
      `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

// `hotline-gateway serve`; resolves with {port, child, exited} once it
// says it listens. Its output is kept (logTail) for failure messages.
export function startGateway(args, config) {
  const env = { ...process.env, GATEWAY_DATA_KEY: DATA_KEY };
  delete env.GATEWAY_OPERATOR_PASSWORD;
  const child = spawn(args.gateway, ['serve', '--config', config], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  gatewayChild = child;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  });
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => finish(new Error('no "listening on" line within 20 s')), 20_000);
    function finish(err, port) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(new Error(`${err.message}\n--- gateway output ---\n${logTail()}`));
      else resolve({ port, child, exited });
    }
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream.setEncoding('utf8');
      // Keep draining the output for the whole run (and keep it for messages).
      stream.on('data', (chunk) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          gatewayLog.push(line);
          if (gatewayLog.length > 2000) gatewayLog.shift();
          const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
          if (m) finish(null, Number(m[1]));
        }
      });
    }
    child.once('error', (e) => finish(e));
    exited.then(({ code, signal }) => finish(new Error(`gateway exited early (code ${code}, signal ${signal})`)));
  });
}

// ------------------------------------------------------------------ HTTP and USSD

// Where the gateway listens, e.g. http://127.0.0.1:41234 (set once started).
export const gateway = { base: '' };

export async function apiCall(method, p, { token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(gateway.base + API + p,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// One Africa's Talking USSD callback; the screen (CON/END ...).
export async function ussd(phone, sessionId, text) {
  const body = new URLSearchParams({ sessionId, serviceCode: '*123#', phoneNumber: phone, text }).toString();
  const res = await fetch(`${gateway.base}/ussd/africastalking?token=test-ussd-token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body,
  });
  const answer = await res.text();
  if (res.status !== 200) throw new Error(`USSD text="${text}" → HTTP ${res.status}: ${answer}`);
  if (!/^(CON|END) /.test(answer)) throw new Error(`USSD text="${text}" → not CON/END: ${answer}`);
  return answer;
}

// "1 Label" lines of a screen → [{n, label}]
export function optionsOf(screen) {
  const out = [];
  for (const line of screen.split('\n')) {
    const m = /^\s*(\d+)[.)]?\s+(.+?)\s*$/.exec(line);
    if (m) out.push({ n: m[1], label: m[2] });
  }
  return out;
}

// The urgent flow in Russian from `oblast`, "SMS only", choosing options by
// their labels (turning pages with 98); returns {reference, endAt, screens}.
export async function walkUrgent(phone, oblast, sessionId) {
  const inputs = [];
  const screens = [];
  let screen = await ussd(phone, sessionId, '');
  screens.push(screen);
  for (const label of ['Русский', 'Срочно', oblast, 'Только SMS']) {
    for (let page = 0; ; page++) {
      assert(screen.startsWith('CON '), `expected a CON screen before choosing "${label}", got: ${screen}`);
      const opts = optionsOf(screen);
      const hit = opts.find((o) => o.label === label) || opts.find((o) => o.label.startsWith(label));
      if (hit) { inputs.push(hit.n); break; }
      assert(opts.find((o) => o.n === '98') && page < 5, `no option "${label}" on screen:\n${screen}`);
      inputs.push('98');
      screen = await ussd(phone, sessionId, inputs.join('*'));
      screens.push(screen);
    }
    screen = await ussd(phone, sessionId, inputs.join('*'));
    screens.push(screen);
  }
  // A long end text comes in pages ("98 Далее") before the END.
  const endScreens = [screen];
  for (let page = 0; !screen.startsWith('END ') && page < 5; page++) {
    assert(optionsOf(screen).find((o) => o.n === '98'),
      `expected END (or a page with 98) after the contact choice, got: ${screen}`);
    inputs.push('98');
    screen = await ussd(phone, sessionId, inputs.join('*'));
    screens.push(screen);
    endScreens.push(screen);
  }
  const endAt = Date.now();
  assert(screen.startsWith('END '), `expected END after the contact choice, got: ${screen}`);
  const m = /R-\d{7}/.exec(endScreens.join('\n'));
  assert(m, `no case code R-nnnnnnn in: ${endScreens.join(' | ')}`);
  return { reference: m[0], endAt, screens };
}

// ------------------------------------------------------------------ browser

export const tid = (id) => `[data-testid="${id}"]`;

export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    throw new Error(`cannot load playwright-core (${e.message}); run "npm ci" in tests/console`);
  }
}

// Page errors, CSP violations and dialogs go into `problems`.
export function watchPage(page, label, problems) {
  page.on('pageerror', (err) => problems.push(`${label}: page error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) {
      problems.push(`${label}: CSP violation: ${text}`);
    }
  });
  page.on('dialog', (d) => { problems.push(`${label}: unexpected dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
}

// ------------------------------------------------------------------ the run

// Runs `main` under an overall time limit, then stops everything started,
// prints the failures, `summary` (warnings' heading, if any) and the count,
// and exits 0 only when nothing failed.
export async function run(main, { timeoutMs, warningsHeading = 'Warnings' }) {
  const overall = setTimeout(async () => {
    softFail('time limit', `test still running after ${timeoutMs / 1000} s`);
    if (gatewayLog.length) console.log(`--- gateway output (last lines) ---\n${logTail()}`);
    await cleanup();
    console.log(`${results.passed} passed, ${results.failures.length} failed`);
    process.exit(1);
  }, timeoutMs);
  let crashed = false;
  try {
    await main();
  } catch (err) {
    crashed = true;
    if (!(err instanceof StepFailure)) softFail('test', err && err.stack ? err.stack : String(err));
  }
  clearTimeout(overall);
  if (results.failures.length && gatewayLog.length) {
    console.log(`--- gateway output (last lines) ---\n${logTail()}`);
  }
  await cleanup();
  if (results.failures.length) {
    console.log('\nFailures:');
    for (const f of results.failures) console.log(`  - ${f}`);
  }
  if (results.warnings.length) {
    console.log(`\n${warningsHeading}:`);
    for (const w of results.warnings) console.log(`  - ${w}`);
  }
  console.log(`${results.passed} passed, ${results.failures.length} failed${crashed ? ' (stopped early)' : ''}`);
  process.exit(results.failures.length ? 1 : 0);
}
