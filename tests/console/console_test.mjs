#!/usr/bin/env node
// Real-browser test of the hotline operator console.
//
//   node tests/console/console_test.mjs --gateway <hotline-gateway binary> --repo <repo root>
//     [--chromium /usr/bin/chromium] [--keep-tmp]
//
// Starts a fake SMSC (Kannel's sendsms), the real gateway on a free loopback
// port and headless Chromium (playwright-core), then walks an operator's day:
// log-in, a woman's urgent USSD session showing up in the queue, claim, note
// (with an XSS attempt), SMS reply, close, the supervisor's audit view, log-in
// back-off, and finally that her number is not stored in clear text.
// Exit code 0 = everything passed. Everything started here is stopped here,
// also on failure. Needs `npm ci` in tests/console and Debian's chromium.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  addOperator, assert, check, cleanup, cleanups, gateway, loadPlaywright, parseArgs, run, softFail,
  startFakeSmsc, startGateway, step, tid, walkUrgent, warn, watchPage, writeConfig, apiCall, ussd,
  optionsOf, pass, gatewayLog, logTail,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 110_000;
const QUEUE_LATENCY_LIMIT_MS = 1000;
const PHONE = '+996555123456';
const PHONE_DIGITS = '996555123456';
const USERS = {
  aida: { password: 'Aida-test-passw0rd', display: 'Аида', role: 'operator' },
  gulnara: { password: 'Gulnara-test-passw0rd', display: 'Гульнара', role: 'supervisor' },
};
const XSS_NOTE = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>Позвонила';
const OUTCOME = 'Консультация дана';

const args = parseArgs(process.argv.slice(2), { script: 'console_test.mjs' });
let gatewayChild = null;  // stopped by the test itself (SIGTERM must end it cleanly)

// ------------------------------------------------------------------ browser helpers

async function login(page, username, password) {
  await page.fill(tid('login-username'), username);
  await page.fill(tid('login-password'), password);
  await page.click(tid('login-submit'));
}

async function statusText(page) {
  try { return (await page.textContent(tid('status'), { timeout: 1000 })) || ''; } catch (e) { return ''; }
}

// ------------------------------------------------------------------ the test

async function main() {
  const started = Date.now();
  assert(fs.existsSync(args.gateway), `gateway binary not found: ${args.gateway}`);
  assert(fs.existsSync(path.join(args.repo, 'gateway', 'console', 'index.html')),
    `no gateway/console/index.html under ${args.repo}`);
  assert(fs.existsSync(args.chromium), `Chromium not found at ${args.chromium} (apt-get install -y chromium)`);
  const { chromium } = await loadPlaywright();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-console-'));
  // Removed last, after the gateway has stopped (--keep-tmp keeps it for a look).
  cleanups.unshift(() => {
    if (args.keepTmp) console.log(`temp dir kept: ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });

  const smsc = await startFakeSmsc();
  const config = writeConfig(args, tmp, smsc.port);

  await step('operator accounts created with the CLI', () => {
    addOperator(args, config, 'aida', USERS.aida);
    addOperator(args, config, 'gulnara', USERS.gulnara);
    return 'aida (operator), gulnara (supervisor)';
  });

  await step('gateway started', async () => {
    const g = await startGateway(args, config);
    gatewayChild = g.child;
    gateway.base = `http://127.0.0.1:${g.port}`;
    return gateway.base;
  });

  await step('console files served with a strict CSP', async () => {
    const res = await fetch(`${gateway.base}/console/`);
    const html = await res.text();
    assert(res.status === 200, `GET /console/ → ${res.status}`);
    assert(html.includes('data-testid="login-form"') || html.includes('login-username'), 'GET /console/ is not the console page');
    const csp = res.headers.get('content-security-policy') || '';
    assert(/script-src 'self'/.test(csp), `missing or weak Content-Security-Policy: "${csp}"`);
    for (const f of ['app.js', 'app.css', 'i18n.js']) {
      const r = await fetch(`${gateway.base}/console/${f}`);
      assert(r.status === 200, `GET /console/${f} → ${r.status}`);
    }
    return `CSP: ${csp}`;
  });

  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  const problems = [];

  // ---- aida: language, wrong password, log-in
  const ctxA = await browser.newContext({ locale: 'ru-RU' });
  ctxA.setDefaultTimeout(10_000);
  const page = await ctxA.newPage();
  watchPage(page, 'aida', problems);

  await step('language switch Kyrgyz / Russian', async () => {
    await page.goto(`${gateway.base}/console/`);
    await page.waitForSelector(tid('login-submit'));
    const ru = (await page.textContent(tid('login-submit'))).trim();
    assert(ru === 'Войти', `default language is not Russian: log-in button says "${ru}"`);
    await page.click(tid('lang-ky'));
    await page.waitForFunction(() => document.documentElement.lang === 'ky');
    const ky = (await page.textContent(tid('login-submit'))).trim();
    assert(ky !== ru && ky === 'Кирүү', `after "Кыргызча" the log-in button says "${ky}"`);
    await page.reload();
    await page.waitForSelector(tid('login-submit'));
    const kept = (await page.textContent(tid('login-submit'))).trim();
    assert(kept === 'Кирүү', `language not remembered after reload: "${kept}"`);
    await page.click(tid('lang-ru'));
    await page.waitForFunction(() => document.documentElement.lang === 'ru');
    const back = (await page.textContent(tid('login-submit'))).trim();
    assert(back === 'Войти', `back to Russian failed: "${back}"`);
    return `"${ru}" ↔ "${ky}", remembered after reload`;
  });

  await step('wrong password shows an error', async () => {
    await login(page, 'aida', 'not-the-password');
    await page.waitForSelector(tid('login-error'), { state: 'visible' });
    const text = (await page.textContent(tid('login-error'))).trim();
    assert(text.length > 0, 'empty log-in error');
    assert(await page.isVisible(tid('login-view')), 'left the log-in form after a wrong password');
    return `"${text}"`;
  });

  await step('aida logs in', async () => {
    await login(page, 'aida', USERS.aida.password);
    await page.waitForSelector(tid('queue-view'), { state: 'visible' }).catch(async (e) => {
      const err = await page.textContent(tid('login-error')).catch(() => '');
      throw new Error(`queue not shown after log-in (log-in message: "${err}")`);
    });
    const who = await page.textContent(tid('current-user'));
    assert(who.includes('Аида'), `current user shows "${who}"`);
    const token = await page.evaluate(() => sessionStorage.getItem('hotline.console.token'));
    assert(token, 'no token in sessionStorage');
    return `shown as "${who.trim()}"`;
  });
  const aidaToken = await page.evaluate(() => sessionStorage.getItem('hotline.console.token'));

  // ---- the woman's urgent USSD session while the queue is open
  await page.evaluate(() => {
    window.__rowSeen = {};
    const body = document.querySelector('[data-testid="queue-view"]');
    const note = () => {
      for (const tr of body.querySelectorAll('tr[data-testid^="queue-row-"]')) {
        const id = tr.getAttribute('data-testid');
        if (!(id in window.__rowSeen)) window.__rowSeen[id] = Date.now();
      }
    };
    note();
    new MutationObserver(note).observe(body, { childList: true, subtree: true });
  });

  await step('urgent USSD session creates a case', async () => {
    walkResult = await walkUrgent(PHONE, 'Ош', `console-test-${process.pid}-${Date.now()}`);
    return `${walkResult.reference} after ${walkResult.screens.length} screens`;
  });
  const walk = walkResult;
  const ref = walk.reference;

  await step('case appears in the open queue', async () => {
    const row = tid(`queue-row-${ref}`);
    await page.waitForSelector(row, { state: 'visible', timeout: 10_000 });
    const seen = await page.evaluate((id) => window.__rowSeen[id], `queue-row-${ref}`);
    const latency = Math.max(0, (seen || Date.now()) - walk.endAt);
    queueLatency = latency;
    const urgent = await page.getAttribute(row, 'data-urgent');
    const cls = await page.getAttribute(row, 'class');
    check('queue row marked urgent', urgent === 'true' && /urgent/.test(cls || ''), `class="${cls}"`);
    assert(latency <= QUEUE_LATENCY_LIMIT_MS, `row visible ${latency} ms after END (limit ${QUEUE_LATENCY_LIMIT_MS} ms)`);
    return `visible ${latency} ms after END`;
  });

  // ---- case view, claim, note with markup, reply, close
  await step('case view opens', async () => {
    await page.click(tid(`queue-row-${ref}`));
    await page.waitForSelector(tid('case-view'), { state: 'visible' });
    await page.waitForFunction((r) => document.querySelector('[data-testid="case-reference"]').textContent === r
      && document.querySelector('[data-testid="case-status"]').getAttribute('data-status'), ref);
    const status = await page.getAttribute(tid('case-status'), 'data-status');
    const transcript = await page.locator(tid('transcript-item')).allTextContents();
    check('transcript shown', transcript.length > 0, `${transcript.length} screens`);
    const sawOblast = transcript.some((x) => x.includes('Из какой вы области?'));
    if (!sawOblast || transcript.length < 4) {
      warn(`transcript lists ${transcript.length} screen(s), not the ${walk.screens.length} she saw: ${JSON.stringify(transcript)}`);
    }
    if (transcript.some((x) => x.includes('{ref}'))) warn('transcript shows an unfilled {ref}');
    const noCall = await page.isVisible(tid('case-warning-no-call'));
    check('"do not call" warning shown (she chose SMS only)', noCall, '', 'no warning');
    const how = (await page.textContent(tid('case-field-contact'))).trim();
    check('her contact answer shown in her operator\'s language', /SMS/.test(how), `"${how}"`);
    const phone = (await page.textContent(tid('case-field-phone'))).trim();
    check('phone masked before claim', !phone.includes('555123456'), `"${phone}"`);
    return `status ${status}`;
  });

  await step('claim', async () => {
    await page.click(tid('claim'));
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="case-status"]').getAttribute('data-status') === 'claimed');
    const phone = (await page.textContent(tid('case-field-phone'))).trim();
    check('phone visible to the operator who claimed', phone.replace(/\D/g, '').endsWith('555123456'), `"${phone}"`);
    return 'status claimed';
  });

  await step('note with markup is shown as text', async () => {
    await page.fill(tid('note-text'), XSS_NOTE);
    await page.click(tid('note-submit'));
    await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="note-item"]')]
      .some((li) => li.textContent.includes(t)), 'Позвонила');
    const texts = await page.locator(tid('note-item')).allTextContents();
    assert(texts.some((x) => x.includes(XSS_NOTE)), `note not shown literally: ${JSON.stringify(texts)}`);
    const xss = await page.evaluate(() => typeof window.__xss);
    assert(xss === 'undefined', `window.__xss is ${xss}: the note's markup ran`);
    const imgs = await page.locator(`${tid('case-notes')} img, ${tid('case-notes')} script`).count();
    assert(imgs === 0, `${imgs} img/script elements inside the notes`);
    return 'literal text, window.__xss undefined';
  });

  await step('reply by SMS with the first template', async () => {
    const count = await page.locator(`${tid('reply-template')} option`).count();
    assert(count > 0, 'no reply templates offered');
    const first = await page.locator(`${tid('reply-template')} option`).first().getAttribute('value');
    assert(first, 'no reply templates offered (empty value)');
    await page.selectOption(tid('reply-template'), first);
    const preview = (await page.textContent(tid('reply-preview'))).trim();
    assert(preview.length > 0, 'empty template preview');
    assert(!preview.includes('{ref}'), `preview still has {ref}: "${preview}"`);
    const before = smsc.requests.length;
    const replyAnswer = page.waitForResponse((r) => r.url().endsWith('/reply') && r.request().method() === 'POST')
      .then((r) => r.json()).catch(() => null);
    await page.click(tid('reply-submit'));
    // The status line then shows the queued text, or the API's error.
    await page.waitForFunction((text) => {
      const st = document.querySelector('[data-testid="status"]');
      return st.className.includes('error') || (st.className.includes('ok') && st.textContent.includes(text));
    }, preview);
    const status = await statusText(page);
    assert(!(await page.getAttribute(tid('status'), 'class')).includes('error'), `reply failed: "${status}"`);
    const answer = await replyAnswer;
    if (!answer || !(Number(answer.message_id) > 0)) warn(`POST /cases/${ref}/reply answered ${JSON.stringify(answer)} (no message id)`);
    const deadline = Date.now() + 8000;
    let sms = null;
    while (Date.now() < deadline && !sms) {
      sms = smsc.requests.slice(before).find((r) => {
        const to = (r.params.get('to') || '').replace(/^\+/, '');
        return to === PHONE_DIGITS;
      }) || null;
      if (!sms) await new Promise((r) => setTimeout(r, 100));
    }
    assert(sms, `the fake SMSC got no SMS to ${PHONE} within 8 s (requests: ${JSON.stringify(smsc.requests.map((r) => r.url))})`);
    const text = sms.params.get('text') || '';
    assert(text === preview, `SMS text differs from the preview:\n  sms:     "${text}"\n  preview: "${preview}"`);
    assert(!/urgent|срочн/i.test(text), `SMS mentions the topic: "${text}"`);
    check('SMS carries her reference', text.includes(ref), `"${text}"`, `reference ${ref} not in "${text}"`);
    const listed = await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid="message-item"]')]
      .some((li) => li.textContent.includes(t)), text, { timeout: 5000 }).then(() => true, () => false);
    check('SMS listed in the case', listed, '', 'the sent SMS is not in the case\'s message list');
    return `${sms.method} to=${sms.params.get('to')} text="${text}"`;
  });

  await step('close with outcome', async () => {
    await page.fill(tid('close-outcome'), OUTCOME);
    await page.click(tid('close-submit'));
    await page.waitForFunction(() =>
      document.querySelector('[data-testid="case-status"]').getAttribute('data-status') === 'closed');
    const label = (await page.textContent(tid('case-status'))).trim();
    const outcome = (await page.textContent(tid('case-field-outcome'))).trim();
    check('outcome shown', outcome === OUTCOME, `"${outcome}"`);
    // A closed case cannot be closed again: the button stays disabled.
    await page.waitForTimeout(100);
    check('close button disabled after closing', await page.isDisabled(tid('close-submit')), 'enabled');
    return `case-status "${label}"`;
  });

  // ---- supervisor: audit; operator: no audit
  await step('operator has no audit tab and gets 403 on /audit', async () => {
    assert(!(await page.isVisible(tid('tab-audit'))), 'audit tab visible to an operator');
    const r = await apiCall('GET', `/audit?case=${ref}&limit=200`, { token: aidaToken });
    assert(r.status === 403, `GET /audit as aida → ${r.status} ${r.text}`);
    return '403';
  });

  const ctxG = await browser.newContext({ locale: 'ru-RU' });
  ctxG.setDefaultTimeout(10_000);
  const gpage = await ctxG.newPage();
  watchPage(gpage, 'gulnara', problems);

  await step('supervisor sees the audit trail of the case', async () => {
    await gpage.goto(`${gateway.base}/console/`);
    await login(gpage, 'gulnara', USERS.gulnara.password);
    await gpage.waitForSelector(tid('queue-view'), { state: 'visible' });
    await gpage.click(tid('tab-audit'));
    await gpage.waitForSelector(tid('audit-view'), { state: 'visible' });
    await gpage.fill(tid('audit-case'), ref);
    await gpage.click(tid('audit-submit'));
    await gpage.waitForFunction((r) => {
      const rows = [...document.querySelectorAll('[data-testid="audit-row"]')];
      return rows.length > 0 && rows.every((x) => x.getAttribute('data-case') === r);
    }, ref);
    const rows = await gpage.$$eval(tid('audit-row'), (trs) => trs.map((tr) => ({
      action: tr.getAttribute('data-action'), actor: tr.getAttribute('data-actor'),
    })));
    const byAida = rows.filter((r) => r.actor === 'operator:aida').map((r) => r.action);
    const wanted = { viewed: /view/i, claimed: /claim/i, noted: /note/i, replied: /repl|sms/i, closed: /clos/i };
    const missing = Object.entries(wanted).filter(([, re]) => !byAida.some((a) => re.test(a))).map(([k]) => k);
    assert(missing.length === 0,
      `missing audit events by operator:aida: ${missing.join(', ')}; rows: ${JSON.stringify(rows)}`);
    const stats = await gpage.isVisible(tid('stats-download'));
    check('supervisor has operators, partners and statistics', stats &&
      await gpage.isVisible(tid('tab-operators')) && await gpage.isVisible(tid('tab-partners')), '');
    const counts = {};
    for (const a of byAida) counts[a] = (counts[a] || 0) + 1;
    return `actions by operator:aida: ${Object.entries(counts).map(([a, n]) => `${a}×${n}`).join(', ')}`;
  });

  // ---- log-in back-off through the API, and how the console shows it
  await step('repeated wrong passwords → 429 with Retry-After', async () => {
    const seen = [];
    let backedOff = false;
    for (let i = 0; i < 8 && !backedOff; i++) {
      const r = await apiCall('POST', '/login', { body: { username: 'aida', password: `wrong-${i}` } });
      seen.push(r.status);
      assert(r.status === 401 || r.status === 429, `wrong password → ${r.status} ${r.text}`);
      if (i >= 2 && r.status === 429) backedOff = true;
    }
    const r = await apiCall('POST', '/login', { body: { username: 'aida', password: USERS.aida.password } });
    seen.push(r.status);
    const retryAfter = r.headers.get('retry-after');
    assert(r.status === 429, `right password after ${seen.length - 1} wrong ones → ${r.status} (statuses ${seen.join(',')})`);
    assert(retryAfter && /^\d+$/.test(retryAfter) && Number(retryAfter) > 0, `Retry-After is "${retryAfter}"`);
    retryAfterSeen = retryAfter;
    // Waits double with each failure after one: let the short first waits
    // pass and fail again, so that the console check below has time to spare.
    let wait = Number(retryAfter);
    const waits = [wait];
    for (let i = 0; i < 4 && wait < 3; i++) {
      await new Promise((res) => setTimeout(res, wait * 1000 + 150));
      const again = await apiCall('POST', '/login', { body: { username: 'aida', password: `wrong-again-${i}` } });
      const next = await apiCall('POST', '/login', { body: { username: 'aida', password: USERS.aida.password } });
      assert(again.status === 401 || again.status === 429, `wrong password → ${again.status} ${again.text}`);
      assert(next.status === 429, `right password during back-off → ${next.status} ${next.text}`);
      const n = Number(next.headers.get('retry-after'));
      assert(n >= wait, `back-off did not grow: Retry-After ${n} after ${wait}`);
      wait = n;
      waits.push(wait);
    }
    return `statuses ${seen.join(',')}, Retry-After ${waits.join(' → ')} s`;
  });

  {
    const p3 = await ctxG.newPage();
    watchPage(p3, 'backoff', problems);
    await p3.goto(`${gateway.base}/console/`);
    // This context holds gulnara's session; log out first to see the form.
    if (await p3.isVisible(tid('logout'))) await p3.click(tid('logout'));
    await p3.waitForSelector(tid('login-submit'), { state: 'visible' });
    await login(p3, 'aida', USERS.aida.password);
    let msg = '';
    try {
      await p3.waitForSelector(tid('login-error'), { state: 'visible', timeout: 5000 });
      msg = (await p3.textContent(tid('login-error'))).trim();
    } catch (e) { /* checked below */ }
    check('console shows the wait time on 429', /\d+\s*с/.test(msg), `"${msg}"`, `log-in message "${msg}"`);
    await p3.close();
  }

  check('no CSP violations or page errors in the console', problems.length === 0, '', problems.join('\n'));

  await ctxA.close();
  await ctxG.close();

  // ---- stop the gateway; her number must not be stored in clear text
  await step('gateway stops on SIGTERM', async () => {
    const child = gatewayChild;
    const exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    child.kill('SIGTERM');
    const res = await Promise.race([exited, new Promise((r) => setTimeout(() => r(null), 15_000))]);
    assert(res, 'gateway still running 15 s after SIGTERM');
    assert(res.code === 0, `gateway exit code ${res.code} signal ${res.signal}`);
    return `exit ${res.code}`;
  });

  await step('her number is not in the database files', async () => {
    const needle = Buffer.from(PHONE_DIGITS, 'ascii');
    const checked = [];
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      const f = path.join(tmp, `gateway.db${suffix}`);
      if (!fs.existsSync(f)) continue;
      const bytes = fs.readFileSync(f);
      checked.push(`${path.basename(f)} (${bytes.length} B)`);
      assert(bytes.indexOf(needle) < 0, `${path.basename(f)} contains "${PHONE_DIGITS}" in clear text`);
      // Free text is meant to be sealed too; not part of this test's contract.
      if (bytes.indexOf(Buffer.from('Позвонила', 'utf8')) >= 0) warn(`${path.basename(f)} holds the note text in clear`);
    }
    assert(checked.length > 0, 'no database file found');
    return checked.join(', ');
  });

  console.log(`\nSummary: queue latency ${queueLatency} ms (limit ${QUEUE_LATENCY_LIMIT_MS}), ` +
    `Retry-After ${retryAfterSeen} s, case ${ref}, ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}

let walkResult = null;
let queueLatency = null;
let retryAfterSeen = null;

await run(main, {
  timeoutMs: TOTAL_TIMEOUT_MS,
  warningsHeading: 'Warnings (gateway answers that differ from the operator API contract)',
});
