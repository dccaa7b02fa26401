#!/usr/bin/env node
// Real-browser test of issue #15 in the operator console: search, both
// languages without raw ids, the programme dashboard, and the phone layout.
//
//   node tests/console/dashboard_test.mjs --gateway <hotline-gateway binary> --repo <repo root>
//     [--screenshots <dir>] [--chromium /usr/bin/chromium] [--keep-tmp]
//
// Starts a fake SMSC, the real gateway on a free loopback port and headless
// Chromium (playwright-core); seven women reach the urgent USSD flow (six
// from Osh, one from Batken; two of the numbers end in the same 4 digits).
// Then:
//   - an operator finds a case by its code, with and without "R-", and by
//     the last 4 digits of her number (two matches: a list);
//   - the case in Russian and in Kyrgyz shows no raw id (safe_to_call,
//     crisis_centres, general, matched:, viewed, ...) and no i18n key;
//   - a `programme` account sees only the dashboard: charts drawn (canvas
//     pixels), small counts shown as "<5", the CSV export downloads; without
//     Chart.js the tables still show;
//   - at 360 px the queue, the case and the dashboard do not scroll sideways.
// Screenshots of each go to --screenshots (default <repo>/build/console-screenshots).
// Exit code 0 = everything passed. Everything started here is stopped here.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import {
  API, addOperator, apiCall, assert, check, cleanups, gateway, loadPlaywright, parseArgs, part, run,
  startFakeSmsc, startGateway, step, tid, walkUrgent, watchPage, writeConfig,
} from './lib.mjs';

const TOTAL_TIMEOUT_MS = 140_000;
const USERS = {
  aida: { password: 'Aida-test-passw0rd', display: 'Аида', role: 'operator' },
  gulnara: { password: 'Gulnara-test-passw0rd', display: 'Гульнара', role: 'supervisor' },
  pia: { password: 'Pia-programme-passw0rd', display: 'Пиа', role: 'programme' },
};
// Six women from Osh and one from Batken; the first two numbers end in 4321.
const WOMEN = [
  { phone: '+996555104321', oblast: 'Ош' },
  { phone: '+996700204321', oblast: 'Ош' },
  { phone: '+996555300011', oblast: 'Ош' },
  { phone: '+996555300022', oblast: 'Ош' },
  { phone: '+996555300033', oblast: 'Ош' },
  { phone: '+996555300044', oblast: 'Ош' },
  { phone: '+996555300055', oblast: 'Баткен' },
];
// Raw ids and English API words that must not be on screen in either language.
const RAW_WORDS = ['safe_to_call', 'crisis_centres', 'legal_aid', 'sms_only', 'general', 'matched:',
  'viewed', 'created', 'closed', 'escalated', 'operator_reply', 'urgent-to', 'rules.yaml', 'to crisis'];
// What an untranslated dictionary key looks like: "field.topic", "apierr.status.404".
const KEY_PATTERN = /\b[a-z][a-z_]*\.[a-z_][a-z0-9_.]*\b/;

const args = parseArgs(process.argv.slice(2), { script: 'dashboard_test.mjs', screenshots: true });

// ------------------------------------------------------------------ browser helpers

async function login(page, username) {
  await page.goto(`${gateway.base}/console/`);
  await page.waitForSelector(tid('login-submit'));
  await page.fill(tid('login-username'), username);
  await page.fill(tid('login-password'), USERS[username].password);
  // The labels (GET /labels) are loaded once after log-in.
  const labels = page.waitForResponse((r) => r.url().includes(`${API}/labels`), { timeout: 5000 }).catch(() => null);
  await page.click(tid('login-submit'));
  await page.waitForSelector(tid('logout'), { state: 'visible' });
  const answer = await labels;
  if (!answer || answer.status() !== 200) console.log(`WARN GET /labels for ${username}: ${answer ? answer.status() : 'no answer'}`);
}

async function shot(page, name) {
  const file = path.join(args.shots, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

async function searchFor(page, q) {
  await page.fill(tid('search-q'), q);
  await page.press(tid('search-q'), 'Enter');
}

async function waitForCase(page, ref) {
  await page.waitForSelector(tid('case-view'), { state: 'visible' });
  await page.waitForFunction((r) => document.querySelector('[data-testid="case-reference"]').textContent === r
    && document.querySelector('[data-testid="case-status"]').getAttribute('data-status'), ref);
}

async function noSideScroll(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    wide: [...document.querySelectorAll('body *')]
      .filter((n) => n.getBoundingClientRect().right > window.innerWidth + 1 && n.offsetParent !== null)
      .slice(0, 5).map((n) => `${n.tagName.toLowerCase()}${n.id ? '#' + n.id : ''}.${n.className}`),
  }));
}

// ------------------------------------------------------------------ the test

async function main() {
  const started = Date.now();
  assert(fs.existsSync(args.gateway), `gateway binary not found: ${args.gateway}`);
  assert(fs.existsSync(args.chromium), `Chromium not found at ${args.chromium}`);
  const { chromium } = await loadPlaywright();
  fs.mkdirSync(args.shots, { recursive: true });

  await part('i18n.js: every key in Kyrgyz and Russian, every API error code labelled', () => {
    const src = fs.readFileSync(path.join(args.repo, 'gateway', 'console', 'i18n.js'), 'utf8');
    const window = {};
    new Function('window', src)(window);
    const { ru, ky } = window.HOTLINE_I18N;
    const onlyRu = Object.keys(ru).filter((k) => !(k in ky));
    const onlyKy = Object.keys(ky).filter((k) => !(k in ru));
    assert(onlyRu.length === 0 && onlyKy.length === 0, `only in ru: ${onlyRu.join(', ')}; only in ky: ${onlyKy.join(', ')}`);
    const codes = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'conflict', 'too_many', 'unavailable',
      'no_case', 'case_closed', 'case_claimed', 'case_changed', 'no_sms_channel', 'number_forgotten', 'sms_stopped',
      'no_contact', 'no_template', 'text_invalid', 'no_referral', 'no_message', 'no_partner', 'password_short',
      'password_long', 'display_name_invalid', 'username_invalid', 'role_invalid', 'username_taken', 'no_operator',
      'nothing_to_change', 'self_disable', 'search_invalid', 'programme_only_dashboard'];
    const missing = codes.filter((c) => !(`apierr.${c}` in ru));
    assert(missing.length === 0, `no label for error codes: ${missing.join(', ')}`);
    const empty = Object.entries(ky).filter(([, v]) => !String(v).trim()).map(([k]) => k);
    assert(empty.length === 0, `empty Kyrgyz labels: ${empty.join(', ')}`);
    return `${Object.keys(ru).length} keys in each language`;
  });

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-dashboard-'));
  cleanups.unshift(() => {
    if (args.keepTmp) console.log(`temp dir kept: ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  });
  const smsc = await startFakeSmsc();
  const config = writeConfig(args, tmp, smsc.port);

  await step('accounts created with the CLI (operator, supervisor, programme)', () => {
    for (const [u, user] of Object.entries(USERS)) addOperator(args, config, u, user);
    return Object.entries(USERS).map(([u, x]) => `${u} (${x.role})`).join(', ');
  });
  await step('gateway started', async () => {
    gateway.base = `http://127.0.0.1:${(await startGateway(args, config)).port}`;
    return gateway.base;
  });

  const refs = [];
  await step('seven women reach the urgent flow', async () => {
    for (const w of WOMEN) {
      const sessionId = `dash-test-${process.pid}-${w.phone}-${Date.now()}`;
      refs.push((await walkUrgent(w.phone, w.oblast, sessionId)).reference);
    }
    return refs.join(', ');
  });
  const ref = refs[0];

  const browser = await chromium.launch({
    executablePath: args.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--font-render-hinting=none'],
  });
  cleanups.push(() => browser.close());
  const problems = [];

  // ---- search (operator)
  const ctxA = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1200, height: 900 } });
  ctxA.setDefaultTimeout(10_000);
  const page = await ctxA.newPage();
  watchPage(page, 'aida', problems);
  await step('operator logs in', async () => {
    await login(page, 'aida');
    await page.waitForSelector(tid('queue-view'), { state: 'visible' });
    assert(await page.isVisible(tid('search-q')), 'no search box in the header');
    const label = await page.evaluate(() => {
      const input = document.getElementById('search-q');
      return [...(input.labels || [])].map((l) => l.textContent.trim()).join(' ');
    });
    assert(label.length > 0, 'the search box has no label');
    return `search box labelled "${label}"`;
  });

  await part('search by code with "R-" opens the case, focus on its heading', async () => {
    await searchFor(page, ref);
    await waitForCase(page, ref);
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'case-heading',
      null, { timeout: 3000 }).catch(() => {});
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    assert(focused === 'case-heading', `focus is on "${focused}", not the case heading`);
    return `${ref} opened, focus on #case-heading`;
  });

  await part('search by code without "R-" opens the case', async () => {
    await page.click(tid('back-to-queue'));
    await page.waitForSelector(tid('queue-view'), { state: 'visible' });
    const other = refs[2];
    await searchFor(page, other.slice(2));
    await waitForCase(page, other);
    return `${other.slice(2)} → ${other}`;
  });

  await part('search by the last 4 digits lists both matches', async () => {
    await searchFor(page, '4321');
    await page.waitForSelector(tid('search-view'), { state: 'visible' });
    const rows = await page.$$eval('[data-testid^="search-row-"]', (trs) => trs.map((tr) => tr.getAttribute('data-reference')));
    assert(rows.includes(refs[0]) && rows.includes(refs[1]) && rows.length === 2,
      `expected ${refs[0]} and ${refs[1]}, listed: ${JSON.stringify(rows)}`);
    await page.click(tid(`search-row-${refs[1]}`));
    await waitForCase(page, refs[1]);
    return `listed ${rows.join(', ')}; a click opens ${refs[1]}`;
  });

  await part('a malformed search is answered in the operator\'s language', async () => {
    await searchFor(page, 'R-12');
    await page.waitForFunction(() => document.querySelector('[data-testid="status"]').className.includes('error'));
    const text = (await page.textContent(tid('status'))).trim();
    assert(/[А-Яа-яЁё]/.test(text) && !/HTTP|search_invalid|apierr/.test(text), `status line says "${text}"`);
    return `"${text}"`;
  });

  // ---- the case in each language: no raw id, no dictionary key
  for (const lang of ['ru', 'ky']) {
    await part(`case in ${lang === 'ru' ? 'Russian' : 'Kyrgyz'} shows no raw id`, async () => {
      await page.click(tid(`lang-${lang}`));
      await page.evaluate((r) => { location.hash = '#/case/' + r; }, ref);
      await waitForCase(page, ref);
      await page.waitForFunction((l) => document.documentElement.lang === l, lang);
      await page.waitForSelector(tid('referral-explanation'));
      const text = await page.evaluate(() => document.body.innerText);
      const raw = RAW_WORDS.filter((w) => text.includes(w));
      const key = KEY_PATTERN.exec(text);
      const marked = await page.evaluate(() => [...(window.HOTLINE_RAW_IDS || [])]);
      const file = await shot(page, `case-${lang}`);
      assert(raw.length === 0, `raw ids on screen: ${raw.join(', ')} (${file})`);
      assert(!key, `a dictionary key on screen: "${key && key[0]}" (${file})`);
      assert(marked.length === 0 && !text.includes('⚠'), `values without a label: ${marked.join(', ')}`);
      const why = (await page.textContent(tid('referral-explanation'))).trim();
      assert(why.includes('→'), `the explanation is not a sentence: "${why}"`);
      const fields = await page.evaluate(() => document.querySelector('[data-testid="case-fields"]').innerText);
      assert(lang === 'ru' ? /Ош/.test(fields) && /срочн/i.test(fields) : /Ош/.test(fields) && /шашылыш/i.test(fields),
        `topic/oblast not in ${lang}: ${fields.replace(/\s+/g, ' ')}`);
      return `explanation: "${why.split('\n')[0]}"; ${file}`;
    });
  }
  await page.click(tid('lang-ru'));

  await part('refer form lists the partners the rules suggest first', async () => {
    const opts = await page.$$eval(`${tid('refer-partner')} option`, (os) => os.map((o) => ({
      id: o.value, suggested: o.getAttribute('data-suggested'), group: o.parentElement.getAttribute('data-testid'),
    })));
    assert(opts.length > 0, 'no partners in the refer form');
    assert(opts[0].suggested === 'true' && opts[0].group === 'refer-suggested',
      `first option ${JSON.stringify(opts[0])} is not a suggested one (is GET /partners?case= marking "suggested"?)`);
    const firstOther = opts.findIndex((o) => o.suggested !== 'true');
    assert(firstOther < 0 || opts.slice(firstOther).every((o) => o.suggested !== 'true'), 'suggested partners are not all first');
    return `suggested: ${opts.filter((o) => o.suggested === 'true').map((o) => o.id).join(', ')}`;
  });

  // ---- the programme role: dashboard only
  const ctxP = await browser.newContext({ locale: 'ru-RU', viewport: { width: 1200, height: 900 }, acceptDownloads: true });
  ctxP.setDefaultTimeout(10_000);
  const pp = await ctxP.newPage();
  watchPage(pp, 'pia', problems);
  await step('programme account sees only the dashboard', async () => {
    await login(pp, 'pia');
    await pp.waitForSelector(tid('dashboard-view'), { state: 'visible' });
    const visible = {};
    for (const id of ['tab-queue', 'tab-audit', 'tab-operators', 'tab-partners', 'search-q', 'stats-download', 'tab-dashboard']) {
      visible[id] = await pp.isVisible(tid(id));
    }
    assert(visible['tab-dashboard'] && !visible['tab-queue'] && !visible['search-q'] && !visible['tab-audit'] &&
      !visible['tab-operators'] && !visible['tab-partners'] && !visible['stats-download'], `visible: ${JSON.stringify(visible)}`);
    await pp.evaluate((r) => { location.hash = '#/case/' + r; }, ref);
    await pp.waitForFunction(() => location.hash === '#/dashboard');
    assert(!(await pp.isVisible(tid('case-view'))), 'a programme account sees a case');
    const token = await pp.evaluate(() => sessionStorage.getItem('hotline.console.token'));
    const q = await apiCall('GET', '/queue?filter=all', { token });
    const c = await apiCall('GET', `/cases/${ref}`, { token });
    assert(q.status === 403 && c.status === 403, `GET /queue → ${q.status}, GET /cases → ${c.status} for programme`);
    return 'only the dashboard tab; #/case/ goes back to the dashboard; API 403 on queue and cases';
  });

  await part('dashboard charts are drawn (canvas not blank)', async () => {
    await pp.waitForSelector(tid('dash-table-funnel'));
    await pp.waitForFunction(() => Number(document.documentElement.getAttribute('data-charts')) > 0, null, { timeout: 10_000 });
    const canvases = await pp.$$eval('canvas[data-testid^="chart-"]', (cs) => cs.map((c) => {
      const ctx = c.getContext('2d');
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      return { id: c.getAttribute('data-testid'), w: c.width, h: c.height, ink };
    }));
    assert(canvases.length >= 7, `${canvases.length} charts, expected 7`);
    const blank = canvases.filter((c) => c.ink < 200 || c.w === 0 || c.h === 0);
    assert(blank.length === 0, `blank charts: ${JSON.stringify(blank)}`);
    // The bars themselves: the channel chart has one count of 5 or more (USSD, 7 cases).
    const bars = await pp.evaluate(() => {
      const c = document.querySelector('[data-testid="chart-cases-channel"]');
      const chart = window.Chart && window.Chart.getChart(c);
      return chart ? chart.data.datasets.map((d) => d.data) : null;
    });
    assert(bars && bars.flat().some((v) => typeof v === 'number' && v >= 5), `no bar of 5 or more in the channel chart: ${JSON.stringify(bars)}`);
    const file = await shot(pp, 'dashboard');
    return `${canvases.map((c) => `${c.id.replace('chart-', '')}:${c.ink}px`).join(', ')}; ${file}`;
  });

  await part('small counts shown as "<5", with the note', async () => {
    const small = await pp.$$eval('td[data-suppressed="small"]', (tds) => tds.map((td) => td.textContent.trim()));
    assert(small.length > 0 && small.every((x) => x === '<5'), `suppressed cells: ${JSON.stringify(small.slice(0, 5))}`);
    // Batken's one case: "<5" in the oblast table, never "1".
    const oblastCells = await pp.$$eval('[data-testid="dash-table-cases-oblast"] td', (tds) => tds.map((td) => td.textContent.trim()));
    assert(!oblastCells.includes('1') && !oblastCells.includes('2') && !oblastCells.includes('3') && !oblastCells.includes('4'),
      `a count under 5 shown in the oblast table: ${JSON.stringify(oblastCells)}`);
    assert(await pp.isVisible(tid('dash-suppression')), 'no note explaining "<5"');
    const text = await pp.evaluate(() => document.body.innerText);
    const key = KEY_PATTERN.exec(text);
    assert(!key, `a dictionary key on the dashboard: "${key && key[0]}"`);
    assert(!text.includes('⚠'), 'a value without a label on the dashboard');
    return `${small.length} cells "<5"`;
  });

  await part('CSV export downloads with the bearer token', async () => {
    const [download] = await Promise.all([pp.waitForEvent('download', { timeout: 10_000 }), pp.click(tid('dash-csv'))]);
    const file = await download.path();
    const csv = fs.readFileSync(file, 'utf8');
    assert(/cases by week and topic/.test(csv), `not the dashboard CSV: ${csv.slice(0, 200)}`);
    assert(csv.includes('<5'), 'no "<5" in the CSV');
    return `${download.suggestedFilename()}, ${csv.length} bytes`;
  });

  await part('Kyrgyz dashboard has no dictionary keys', async () => {
    await pp.click(tid('lang-ky'));
    await pp.waitForFunction(() => document.documentElement.lang === 'ky');
    await pp.waitForFunction(() => Number(document.documentElement.getAttribute('data-charts')) > 0);
    const text = await pp.evaluate(() => document.body.innerText);
    const key = KEY_PATTERN.exec(text);
    assert(!key && !text.includes('⚠'), `raw text on the Kyrgyz dashboard: "${key ? key[0] : '⚠'}"`);
    const file = await shot(pp, 'dashboard-ky');
    await pp.click(tid('lang-ru'));
    return file;
  });

  // ---- without Chart.js the tables still show
  await part('without the chart library the tables still show', async () => {
    const ctx = await browser.newContext({ locale: 'ru-RU' });
    await ctx.route('**/vendor/chart.js', (route) => route.fulfill({ status: 404, body: 'not here' }));
    const p = await ctx.newPage();
    await login(p, 'pia');
    await p.waitForSelector(tid('dash-table-cases-topic'));
    await p.waitForSelector(tid('dash-nochart'), { state: 'visible' });
    const tables = await p.locator('[data-testid^="dash-table-"]').count();
    await ctx.close();
    assert(tables >= 6, `${tables} tables`);
    return `${tables} tables, a note instead of charts`;
  });

  // ---- 360 px: queue, case, dashboard without sideways scrolling
  const phone = { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ru-RU' };
  const ctxM = await browser.newContext(phone);
  ctxM.setDefaultTimeout(10_000);
  const mp = await ctxM.newPage();
  watchPage(mp, 'aida-phone', problems);
  await part('queue at 360 px: cards, no sideways scrolling', async () => {
    await login(mp, 'aida');
    await mp.waitForSelector(tid(`queue-row-${ref}`));
    const m = await noSideScroll(mp);
    const file = await shot(mp, 'queue-360');
    const head = await mp.evaluate(() => getComputedStyle(document.querySelector('[data-testid="queue-table"] thead')).position);
    const label = await mp.getAttribute(`${tid(`queue-row-${ref}`)} td:nth-child(3)`, 'data-label');
    assert(m.scrollWidth <= m.innerWidth, `scrollWidth ${m.scrollWidth} > ${m.innerWidth}: ${m.wide.join(', ')} (${file})`);
    assert(head === 'absolute' && label, `table not shown as cards (thead ${head}, data-label "${label}")`);
    return `scrollWidth ${m.scrollWidth} <= ${m.innerWidth}; ${file}`;
  });
  await part('case at 360 px: no sideways scrolling, every input labelled', async () => {
    await searchFor(mp, ref);
    await waitForCase(mp, ref);
    await mp.waitForSelector(tid('referral-explanation'));
    const m = await noSideScroll(mp);
    const file = await shot(mp, 'case-360');
    const unlabelled = await mp.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((n) => n.offsetParent !== null && n.type !== 'hidden')
      .filter((n) => !(n.labels && n.labels.length) && !n.getAttribute('aria-label') && !n.getAttribute('aria-labelledby'))
      .map((n) => n.id || n.getAttribute('data-testid') || n.outerHTML.slice(0, 60)));
    assert(m.scrollWidth <= m.innerWidth, `scrollWidth ${m.scrollWidth} > ${m.innerWidth}: ${m.wide.join(', ')} (${file})`);
    assert(unlabelled.length === 0, `inputs without a label: ${unlabelled.join(', ')}`);
    return `scrollWidth ${m.scrollWidth} <= ${m.innerWidth}; ${file}`;
  });
  await ctxM.close();

  const ctxMP = await browser.newContext(phone);
  ctxMP.setDefaultTimeout(10_000);
  const mpp = await ctxMP.newPage();
  watchPage(mpp, 'pia-phone', problems);
  await part('dashboard at 360 px: no sideways scrolling', async () => {
    await login(mpp, 'pia');
    await mpp.waitForSelector(tid('dash-table-sms'));
    await mpp.waitForFunction(() => Number(document.documentElement.getAttribute('data-charts')) > 0);
    const m = await noSideScroll(mpp);
    const file = await shot(mpp, 'dashboard-360');
    assert(m.scrollWidth <= m.innerWidth, `scrollWidth ${m.scrollWidth} > ${m.innerWidth}: ${m.wide.join(', ')} (${file})`);
    return `scrollWidth ${m.scrollWidth} <= ${m.innerWidth}; ${file}`;
  });
  await ctxMP.close();

  check('no CSP violations or page errors', problems.length === 0, '', problems.join('\n'));
  await ctxA.close();
  await ctxP.close();
  console.log(`\nScreenshots in ${args.shots}; ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
}

await run(main, { timeoutMs: TOTAL_TIMEOUT_MS });
