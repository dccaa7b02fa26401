// Hotline operator console. Plain JS, no framework, no build step.
//
// Security rules kept throughout this file:
//  * Everything that comes from the API (notes, SMS texts, transcripts,
//    explanations, names, error reasons) is put into the page with
//    textContent / createElement only — never innerHTML, never as HTML.
//  * No inline scripts or styles (the gateway sends a strict CSP).
//  * The bearer token lives in sessionStorage only (gone when the tab closes).
'use strict';

(function () {
  const API = '/api/operator/v1';
  const TOKEN_KEY = 'hotline.console.token';
  const ME_KEY = 'hotline.console.me';
  const LANG_KEY = 'hotline.console.lang';
  const POLL_MS = 500;
  const LANGS = ['ky', 'ru'];
  const I18N = window.HOTLINE_I18N || { ru: {}, ky: {} };

  const state = {
    lang: 'ru',
    token: null,
    me: null,                 // {username, display_name, role}
    view: null,
    filter: 'all',
    queue: null,              // last GET /queue answer
    queueKey: null,           // what is rendered now (filter, language, content)
    pollGen: 0,
    pollTimer: null,
    pollFailed: false,
    caseRef: null,
    currentCase: null,
    partners: [],
    audit: null,
    operators: null,
    partnersList: null,
    labels: null,             // GET /labels: {ky: {topic: {id: label}, ...}, ru: {...}}
    search: null,             // {q, matches} of the last search with several matches
    dashboard: null,          // last GET /dashboard answer
    focusCaseHeading: false,  // move focus to the case heading after the next render
    loginMsg: null,           // {key, params}
    backoffUntil: 0,
    backoffTimer: null,
    status: null              // {text} or {key, params}, plus kind
  };

  // ---------------------------------------------------------------- helpers

  const $ = (id) => document.getElementById(id);

  function t(key, params) {
    let s = (I18N[state.lang] && I18N[state.lang][key]);
    if (s === undefined) s = I18N.ru[key];
    if (s === undefined) s = key;
    if (params) {
      s = s.replace(/\{(\w+)\}/g, (m, name) =>
        Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : m);
    }
    return s;
  }

  const hasOwn = (o, k) => !!o && Object.prototype.hasOwnProperty.call(o, k);

  // Raw ids shown because no label exists: marked on screen with "⚠" and
  // listed here (the browser test and a curious supervisor can look).
  const rawShown = new Set();
  window.HOTLINE_RAW_IDS = rawShown;
  function rawId(kind, value) {
    rawShown.add(kind + ':' + value);
    return '⚠' + String(value);
  }

  // Translated label for an API value the console itself knows (statuses,
  // reasons, roles, ...); a missing one shows the raw value, marked.
  function valueLabel(prefix, value) {
    if (value === null || value === undefined || value === '') return '—';
    const key = prefix + '.' + value;
    const dict = I18N[state.lang] || {};
    if (hasOwn(dict, key)) return dict[key];
    if (hasOwn(I18N.ru, key)) return I18N.ru[key];
    return rawId(prefix, value);
  }

  // The console's dictionary prefix for each /labels category (the fallback
  // when GET /labels failed or lacks a value).
  const LABEL_FALLBACK = {
    topic: 'topic', subtopic: 'subtopic', oblast: 'oblast', target_group: 'group',
    contact: 'contact', call_time: 'call_time', partner: 'partner'
  };

  // A menu value (topic, oblast, ...) or a partner id in the current language:
  // GET /labels first, then the console's own dictionary, then the raw id (marked).
  function label(category, value) {
    if (value === null || value === undefined || value === '') return '—';
    const id = String(value);
    const byLang = state.labels && state.labels[state.lang];
    if (byLang && hasOwn(byLang[category], id) && byLang[category][id]) return String(byLang[category][id]);
    const key = (LABEL_FALLBACK[category] || category) + '.' + id;
    const dict = I18N[state.lang] || {};
    if (hasOwn(dict, key)) return dict[key];
    return rawId(category, id);
  }

  // A partner's name; "" (no partner) are the hotline operators.
  function partnerLabel(id, fallbackName) {
    if (id === null || id === undefined || id === '') return t('ref.to_operators');
    const byLang = state.labels && state.labels[state.lang];
    if (byLang && byLang.partner && hasOwn(byLang.partner, String(id))) return String(byLang.partner[id]);
    if (fallbackName) return String(fallbackName);
    return label('partner', id);
  }

  function channelLabel(v) {
    return v ? String(v).toUpperCase() : '—';
  }

  // Every table cell carries its column's heading (data-label): under 600 px
  // the CSS shows each row as a card with these headings.
  function labelCells(table) {
    if (!table) return;
    const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent.trim());
    for (const tr of table.querySelectorAll('tbody tr')) {
      [...tr.children].forEach((td, i) => {
        if (heads[i]) td.setAttribute('data-label', heads[i]);
        else td.removeAttribute('data-label');
        // A card cell is a two-column grid (heading, value): the value must be one box.
        if (td.childNodes.length > 1) {
          td.replaceChildren(el('span', { class: 'cell' }, [...td.childNodes]));
        }
      });
    }
  }
  function labelAllTables() {
    for (const table of document.querySelectorAll('table.grid')) labelCells(table);
  }

  // el('td', {class: 'x', testid: 'y', attrs: {...}}, ['text', node, ...])
  // Strings become text nodes; nothing is ever parsed as HTML.
  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      if (props.class) node.className = props.class;
      if (props.testid) node.setAttribute('data-testid', props.testid);
      if (props.text !== undefined && props.text !== null) node.textContent = String(props.text);
      if (props.attrs) {
        for (const [k, v] of Object.entries(props.attrs)) {
          if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
        }
      }
      if (props.type) node.type = props.type;
      if (props.value !== undefined) node.value = props.value;
      if (props.onclick) node.addEventListener('click', props.onclick);
    }
    for (const c of (children || [])) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return node;
  }

  function show(node, visible) { node.hidden = !visible; }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  // API times may be unix seconds, unix milliseconds or ISO strings.
  function toDate(v) {
    if (v === null || v === undefined || v === '') return null;
    if (typeof v === 'number') return new Date(v > 1e12 ? v : v * 1000);
    if (/^\d+$/.test(String(v))) return toDate(Number(v));
    const d = new Date(v);
    return isNaN(d.getTime()) ? null : d;
  }

  function fmtTime(v) {
    const d = toDate(v);
    if (!d) return v ? String(v) : '—';
    return pad(d.getDate()) + '.' + pad(d.getMonth() + 1) + '.' + d.getFullYear() + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function fmtAge(v) {
    const d = toDate(v);
    if (!d) return '—';
    const s = Math.max(0, Math.floor((Date.now() - d.getTime()) / 1000));
    if (s < 60) return t('age.s', { n: s });
    if (s < 3600) return t('age.m', { n: Math.floor(s / 60) });
    if (s < 86400) return t('age.h', { n: Math.floor(s / 3600) });
    return t('age.d', { n: Math.floor(s / 86400) });
  }

  function yesNo(v) {
    if (v === true || v === 'yes' || v === 'true' || v === 1) return t('value.yes');
    if (v === false || v === 'no' || v === 'false' || v === 0) return t('value.no');
    return t('value.unknown');
  }

  function isSupervisor() { return !!(state.me && state.me.role === 'supervisor'); }
  // The read-only programme role sees the dashboard and nothing else.
  function isProgramme() { return !!(state.me && state.me.role === 'programme'); }
  function seesDashboard() { return isSupervisor() || isProgramme(); }
  function myName() { return state.me ? state.me.username : ''; }

  // ---------------------------------------------------------------- status line

  function setStatus(msg, kind) {
    state.status = msg ? Object.assign({ kind: kind || 'info' }, msg) : null;
    renderStatus();
  }
  function renderStatus() {
    const node = $('status');
    const s = state.status;
    node.className = 'status' + (s ? ' ' + s.kind : '');
    node.textContent = s ? (s.key ? t(s.key, s.params) : s.text) : '';
    if (s && s.detail) node.title = s.detail; else node.removeAttribute('title');
    if (s && s.code) node.setAttribute('data-code', s.code); else node.removeAttribute('data-code');
  }

  class ApiError extends Error {
    constructor(status, reason, extra) {
      super(reason);
      this.status = status;
      this.reason = reason;
      Object.assign(this, extra || {});
    }
  }

  // The API's error in the operator's language: its stable code
  // (apierr.<code>), else a generic text by HTTP status. The English reason
  // is kept in the status line's title for whoever debugs.
  function apiErrorKey(err) {
    const dict = I18N[state.lang] || {};
    if (err.code && hasOwn(dict, 'apierr.' + err.code)) return { key: 'apierr.' + err.code };
    if (hasOwn(dict, 'apierr.status.' + err.status)) return { key: 'apierr.status.' + err.status };
    return { key: 'apierr.status.other', params: { status: err.status } };
  }

  function reportError(err) {
    if (!(err instanceof ApiError)) {
      setStatus({ key: 'msg.error', params: { reason: String(err && err.message || err) } }, 'error');
      return;
    }
    if (err.handled) return;
    if (err.status === 0) { setStatus({ key: 'msg.network' }, 'error'); return; }
    setStatus(Object.assign(apiErrorKey(err), { detail: err.reason || '', code: err.code || '' }), 'error');
  }

  // ---------------------------------------------------------------- API

  // {reason, code} of an error answer ({"error": "...", "code": "..."}).
  async function readError(res) {
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') {
        return { reason: body.error, code: typeof body.code === 'string' ? body.code : '' };
      }
    } catch (e) { /* not JSON */ }
    return { reason: 'HTTP ' + res.status, code: '' };
  }
  async function readReason(res) { return (await readError(res)).reason; }

  // Returns the parsed JSON answer (or a Response when opts.raw); throws ApiError.
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { 'Accept': opts.accept || 'application/json' };
    if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
    const init = { method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (e) {
      throw new ApiError(0, t('msg.network'));
    }
    if (res.status === 401) {
      const reason = await readReason(res);
      sessionExpired();
      throw new ApiError(401, reason, { handled: true });
    }
    if (!res.ok) {
      const e = await readError(res);
      throw new ApiError(res.status, e.reason,
        { code: e.code, retryAfter: res.headers.get('Retry-After') });
    }
    if (opts.raw) return res;
    if (res.status === 204) return {};
    try {
      return await res.json();
    } catch (e) {
      throw new ApiError(res.status, 'invalid JSON answer');
    }
  }

  // Runs an action with its button disabled, reporting errors in the status line.
  async function busy(button, fn) {
    if (button) button.disabled = true;
    try {
      return await fn();
    } catch (err) {
      reportError(err);
      return undefined;
    } finally {
      // The answer may have closed the form (a closed case): leave it so.
      if (button) button.disabled = !!(button.form && button.form.dataset.disabled === 'true');
    }
  }

  // ---------------------------------------------------------------- language

  function applyStatic() {
    document.documentElement.lang = state.lang;
    for (const node of document.querySelectorAll('[data-i18n]')) {
      node.textContent = t(node.getAttribute('data-i18n'));
    }
    for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
      node.setAttribute('placeholder', t(node.getAttribute('data-i18n-placeholder')));
    }
    for (const node of document.querySelectorAll('[data-i18n-aria]')) {
      node.setAttribute('aria-label', t(node.getAttribute('data-i18n-aria')));
    }
    document.title = t('app.title');
    for (const l of LANGS) {
      const b = $('lang-' + l);
      b.setAttribute('aria-pressed', l === state.lang ? 'true' : 'false');
      b.classList.toggle('active', l === state.lang);
    }
  }

  function setLang(lang) {
    if (!LANGS.includes(lang)) return;
    state.lang = lang;
    try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* private mode */ }
    applyStatic();
    renderLoginMsg();
    renderStatus();
    renderUser();
    // Re-render what is on screen in the new language.
    state.queueKey = null;
    if (state.queue) renderQueue(state.queue);
    if (state.currentCase) renderCase(state.currentCase);
    if (state.audit) renderAudit(state.audit);
    if (state.operators) renderOperators(state.operators);
    if (state.partnersList) renderPartners(state.partnersList);
    if (state.search) renderSearch(state.search);
    if (state.dashboard) { fillOblasts(); renderDashboard(state.dashboard); }
    labelAllTables();
  }

  // ---------------------------------------------------------------- log-in

  function renderLoginMsg() {
    const node = $('login-error');
    const m = state.loginMsg;
    show(node, !!m);
    node.textContent = m ? t(m.key, m.params) : '';
  }

  function setLoginMsg(key, params) {
    state.loginMsg = key ? { key, params } : null;
    renderLoginMsg();
  }

  function startBackoff(seconds) {
    clearInterval(state.backoffTimer);
    state.backoffUntil = Date.now() + seconds * 1000;
    const tick = () => {
      const left = Math.ceil((state.backoffUntil - Date.now()) / 1000);
      if (left <= 0) {
        clearInterval(state.backoffTimer);
        state.backoffTimer = null;
        $('login-submit').disabled = false;
        setLoginMsg(null);
        return;
      }
      $('login-submit').disabled = true;
      setLoginMsg('login.too_many', { n: left });
    };
    tick();
    state.backoffTimer = setInterval(tick, 1000);
  }

  async function onLogin(ev) {
    ev.preventDefault();
    const username = $('login-username').value.trim();
    const password = $('login-password').value;
    if (!username || !password) return;
    const button = $('login-submit');
    button.disabled = true;
    setLoginMsg(null);
    let res;
    try {
      res = await fetch(API + '/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
        body: JSON.stringify({ username, password }),
        cache: 'no-store', credentials: 'omit', redirect: 'error'
      });
    } catch (e) {
      button.disabled = false;
      setLoginMsg('msg.network');
      return;
    }
    button.disabled = false;
    if (res.status === 200) {
      let data;
      try { data = await res.json(); } catch (e) { data = null; }
      if (!data || typeof data.token !== 'string') {
        setLoginMsg('msg.error', { reason: 'invalid answer' });
        return;
      }
      $('login-password').value = '';
      state.token = data.token;
      state.me = data.operator || null;
      sessionStorage.setItem(TOKEN_KEY, state.token);
      if (!state.me) {
        try { state.me = await api('GET', '/me'); } catch (e) { reportError(e); return; }
      }
      sessionStorage.setItem(ME_KEY, JSON.stringify(state.me));
      enterApp();
      return;
    }
    $('login-password').value = '';
    if (res.status === 401) {
      setLoginMsg('login.wrong');
    } else if (res.status === 429) {
      const n = parseInt(res.headers.get('Retry-After') || '', 10);
      if (Number.isFinite(n) && n > 0) startBackoff(n);
      else setLoginMsg('login.too_many', { n: '?' });
    } else {
      const e = await readError(res);
      const dict = I18N[state.lang] || {};
      if (e.code && hasOwn(dict, 'apierr.' + e.code)) setLoginMsg('apierr.' + e.code);
      else setLoginMsg(hasOwn(dict, 'apierr.status.' + res.status) ? 'apierr.status.' + res.status : 'apierr.status.other',
        { status: res.status });
    }
  }

  function clearData() {
    stopPolling();
    state.queue = null;
    state.queueKey = null;
    state.caseRef = null;
    state.currentCase = null;
    state.audit = null;
    state.operators = null;
    state.partnersList = null;
    state.partners = [];
    state.labels = null;
    state.labelsPromise = null;
    state.search = null;
    state.dashboard = null;
    destroyCharts();
    for (const id of ['queue-body', 'dead-body', 'audit-body', 'operators-body', 'partners-body',
      'case-fields', 'case-transcript', 'case-choices', 'case-referrals', 'case-notes',
      'case-messages', 'reply-template', 'refer-partner', 'search-body', 'dash-tables']) {
      $(id).replaceChildren();
    }
    $('reply-preview').textContent = '';
    for (const id of ['note-text', 'close-outcome', 'refer-note', 'audit-case', 'search-q']) $(id).value = '';
  }

  function sessionExpired() {
    const hadSession = !!state.token;
    dropSession();
    if (hadSession) setLoginMsg('login.expired');
  }

  function dropSession() {
    state.token = null;
    state.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ME_KEY);
    clearData();
    showLogin();
  }

  async function onLogout() {
    const token = state.token;
    if (token) {
      try {
        await fetch(API + '/logout', {
          method: 'POST', cache: 'no-store', credentials: 'omit',
          headers: { 'Authorization': 'Bearer ' + token, 'Content-Type': 'application/json' },
          body: '{}'
        });
      } catch (e) { /* the token is dropped here anyway */ }
    }
    setStatus(null);
    setLoginMsg(null);
    // The next person to log in starts at the queue, not at this case.
    history.replaceState(null, '', location.pathname + location.search);
    dropSession();
  }

  function showLogin() {
    showView('login');
    show($('tabs'), false);
    show($('logout'), false);
    show($('current-user'), false);
    $('login-username').focus();
  }

  function renderUser() {
    const who = $('current-user');
    if (!state.me) { who.textContent = ''; return; }
    who.textContent = (state.me.display_name || state.me.username) + ' (' +
      valueLabel('role', state.me.role) + ')';
  }

  function enterApp() {
    setLoginMsg(null);
    show($('tabs'), true);
    show($('logout'), true);
    show($('current-user'), true);
    renderUser();
    for (const node of document.querySelectorAll('[data-supervisor]')) show(node, isSupervisor());
    for (const node of document.querySelectorAll('[data-dashboard]')) show(node, seesDashboard());
    // The programme role has no queue and no cases: no queue tab, no search.
    for (const node of document.querySelectorAll('[data-cases]')) show(node, !isProgramme());
    loadLabels();
    route();
  }

  // GET /labels once per log-in; what is on screen is drawn again with it.
  function loadLabels() {
    if (!state.labelsPromise) state.labelsPromise = fetchLabels();
    return state.labelsPromise;
  }
  async function fetchLabels() {
    if (state.labels) return;
    try {
      const answer = await api('GET', '/labels');
      if (!state.token) return;
      state.labels = answer && typeof answer === 'object' ? answer : {};
    } catch (err) {
      if (err.handled) return;
      state.labels = {};  // the console's own dictionary still labels the common values
      return;
    }
    state.queueKey = null;
    if (state.queue && state.view === 'queue') renderQueue(state.queue);
    if (state.currentCase) renderCase(state.currentCase);
    if (state.search) renderSearch(state.search);
    if (state.dashboard && state.view === 'dashboard') { fillOblasts(); renderDashboard(state.dashboard); }
  }

  // ---------------------------------------------------------------- views and routing

  const VIEWS = ['login', 'queue', 'case', 'audit', 'operators', 'partners', 'search', 'dashboard'];

  function showView(name) {
    state.view = name;
    for (const v of VIEWS) show($(v + '-view'), v === name);
    const tab = (name === 'case' || name === 'search') ? 'queue' : name;
    for (const a of document.querySelectorAll('.tab')) {
      const on = a.getAttribute('data-tab') === tab;
      a.classList.toggle('active', on);
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    }
  }

  function route() {
    if (!state.token) { showLogin(); return; }
    const hash = location.hash.replace(/^#\/?/, '');
    const parts = hash.split('/');
    const page = parts[0] || (isProgramme() ? 'dashboard' : 'queue');
    if (page !== 'case') { state.caseRef = null; state.currentCase = null; }
    if (isProgramme() && page !== 'dashboard') {
      stopPolling();
      location.hash = '#/dashboard';  // hashchange routes again
      return;
    }
    if (['audit', 'operators', 'partners'].includes(page) && !isSupervisor()) {
      location.hash = '#/queue';
      return;
    }
    if (page === 'dashboard' && !seesDashboard()) {
      location.hash = '#/queue';
      return;
    }
    if (page === 'dashboard') { stopPolling(); showDashboard(); return; }
    if (page === 'search') {
      stopPolling();
      if (state.search) { showView('search'); renderSearch(state.search); } else location.hash = '#/queue';
      return;
    }
    if (page === 'case' && parts[1]) {
      stopPolling();
      showView('case');
      openCase(decodeURIComponent(parts[1]));
    } else if (page === 'audit') {
      stopPolling();
      showView('audit');
      if (parts[1]) $('audit-case').value = decodeURIComponent(parts[1]);
      loadAudit();
    } else if (page === 'operators') {
      stopPolling();
      showView('operators');
      loadOperators();
    } else if (page === 'partners') {
      stopPolling();
      showView('partners');
      loadPartnersView();
    } else {
      showView('queue');
      startPolling();
    }
  }

  // ---------------------------------------------------------------- queue

  function stopPolling() {
    state.pollGen++;
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
  }

  function startPolling() {
    stopPolling();
    const gen = state.pollGen;
    pollOnce(gen);
  }

  async function pollOnce(gen) {
    const started = Date.now();
    try {
      const q = await api('GET', '/queue?filter=' + encodeURIComponent(state.filter));
      if (gen !== state.pollGen) return;
      if (state.pollFailed) {
        state.pollFailed = false;
        if (state.status && state.status.key === 'msg.network') setStatus(null);
      }
      renderQueue(q);
    } catch (err) {
      if (gen !== state.pollGen) return;
      if (err.handled) return;
      if (!state.pollFailed) reportError(err);
      state.pollFailed = true;
    }
    if (gen !== state.pollGen) return;
    // Fixed rate: a new request every POLL_MS, never two at once.
    const wait = Math.max(0, POLL_MS - (Date.now() - started));
    state.pollTimer = setTimeout(() => pollOnce(gen), wait);
  }

  function renderQueue(q) {
    state.queue = q;
    const items = Array.isArray(q.items) ? q.items : [];
    const messages = Array.isArray(q.messages) ? q.messages : [];
    // Re-render only when something visible changed, so focus and selection stay.
    const key = state.filter + '|' + state.lang + '|' + String(q.version) + '|' +
      JSON.stringify(items) + '|' + JSON.stringify(messages);
    if (key === state.queueKey) {
      updateAges();
      return;
    }
    state.queueKey = key;

    const rows = items.map((it) => {
      const ref = String(it.reference || '');
      const reasons = Array.isArray(it.reasons) ? it.reasons : [];
      const open = () => { location.hash = '#/case/' + encodeURIComponent(ref); };
      const tr = el('tr', {
        class: 'queue-row' + (it.urgent ? ' urgent' : '') +
          (it.assigned_to && it.assigned_to === myName() ? ' mine' : ''),
        testid: 'queue-row-' + ref,
        attrs: { tabindex: '0', 'data-reference': ref, 'data-urgent': it.urgent ? 'true' : 'false' }
      }, [
        el('td', { class: 'ref' }, [
          it.urgent ? el('span', { class: 'badge urgent', text: t('queue.urgent') }) : null,
          el('a', { text: ref, attrs: { href: '#/case/' + encodeURIComponent(ref) } })
        ]),
        el('td', null, reasons.map((r) =>
          el('span', { class: 'chip reason-' + String(r).replace(/[^a-z_]/g, ''), text: valueLabel('reason', r) }))),
        el('td', { text: label('topic', it.topic) }),
        el('td', { text: label('oblast', it.oblast) }),
        el('td', { text: valueLabel('language', it.language) }),
        el('td', { text: channelLabel(it.channel) }),
        el('td', { class: 'age', text: fmtAge(it.created_at), attrs: { 'data-created': it.created_at } }),
        el('td', { text: it.assigned_to ? it.assigned_to : t('queue.nobody') })
      ]);
      tr.addEventListener('click', (ev) => {
        if (ev.target.closest('a')) return;  // the link navigates by itself
        open();
      });
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      return tr;
    });
    $('queue-body').replaceChildren(...rows);
    labelCells($('queue-body').closest('table'));
    show($('queue-empty'), items.length === 0);

    const dead = messages.map((m) => {
      const id = String(m.id);
      const retry = el('button', {
        type: 'button', class: 'small', text: t('dead.retry'), testid: 'dead-retry-' + id
      });
      retry.addEventListener('click', () => busy(retry, async () => {
        await api('POST', '/messages/' + encodeURIComponent(id) + '/retry', {});
        setStatus({ key: 'dead.retried', params: { id } }, 'ok');
        if (state.view === 'queue') startPolling();
      }));
      return el('tr', { testid: 'dead-row-' + id }, [
        el('td', { text: id }),
        el('td', { text: valueLabel('purpose', m.purpose) }),
        el('td', { text: channelLabel(m.channel) }),
        el('td', { class: 'mono', text: m.recipient }),
        el('td', { text: m.attempts }),
        el('td', { class: 'error-text', text: m.last_error }),
        el('td', { text: fmtTime(m.updated_at) }),
        el('td', null, [retry])
      ]);
    });
    $('dead-body').replaceChildren(...dead);
    labelCells($('dead-body').closest('table'));
    show($('dead-empty'), messages.length === 0);
  }

  function updateAges() {
    for (const cell of $('queue-body').querySelectorAll('td.age')) {
      const text = fmtAge(cell.getAttribute('data-created'));
      if (cell.textContent !== text) cell.textContent = text;
    }
  }

  function setFilter(filter) {
    state.filter = filter;
    for (const b of document.querySelectorAll('.filter')) {
      const on = b.getAttribute('data-filter') === filter;
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
      b.classList.toggle('active', on);
    }
    state.queueKey = null;
    if (state.view === 'queue') startPolling();
  }

  // ---------------------------------------------------------------- case

  async function openCase(ref) {
    state.caseRef = ref;
    state.currentCase = null;
    state.focusCaseHeading = true;
    $('case-reference').textContent = ref;
    setStatus({ key: 'msg.loading' }, 'info');
    try {
      // The partners the rules would pick for this case come first (suggested).
      const [c, partners] = await Promise.all([
        api('GET', '/cases/' + encodeURIComponent(ref)),
        api('GET', '/partners?case=' + encodeURIComponent(ref))
          .catch((e) => { if (e.handled) throw e; return { partners: [] }; })
      ]);
      if (state.caseRef !== ref) return;
      state.partners = Array.isArray(partners.partners) ? partners.partners : [];
      setStatus(null);
      renderCase(c);
    } catch (err) {
      reportError(err);
    }
  }

  async function reloadCase() {
    if (!state.caseRef) return;
    const c = await api('GET', '/cases/' + encodeURIComponent(state.caseRef));
    if (c && c.reference === state.caseRef) renderCase(c);
  }

  // An action that answers with the whole case view is shown as it is;
  // a shorter answer (e.g. the bare case record) means "fetch it again".
  async function afterAction(answer) {
    const full = answer && answer.reference === state.caseRef && typeof answer.status === 'string' &&
      Array.isArray(answer.notes) && Array.isArray(answer.transcript) &&
      Array.isArray(answer.referrals) && Array.isArray(answer.messages) && Array.isArray(answer.templates);
    if (full) renderCase(answer);
    else await reloadCase();
  }

  function field(dl, name, value, cls) {
    dl.appendChild(el('dt', { text: t('field.' + name) }));
    dl.appendChild(el('dd', { testid: 'case-field-' + name, class: cls || '', text: value }));
  }

  function setFormDisabled(form, disabled) {
    form.dataset.disabled = disabled ? 'true' : 'false';
    for (const c of form.elements) c.disabled = disabled;
  }

  function renderCase(c) {
    state.currentCase = c;
    const me = myName();
    const sup = isSupervisor();
    const assigned = c.assigned_to || '';
    const closed = c.status === 'closed';
    const canAct = sup || (assigned !== '' && assigned === me);

    $('case-reference').textContent = c.reference;
    const st = $('case-status');
    st.textContent = valueLabel('status', c.status);
    st.setAttribute('data-status', String(c.status || ''));
    st.className = 'badge status-' + String(c.status || '').replace(/[^a-z_]/g, '');
    show($('case-urgent'), !!c.urgent);
    show($('case-warning-no-call'), c.safe_to_call === false);
    show($('case-warning-no-sms'), c.sms_blocked === true);

    // Claim / take over / release.
    const claim = $('claim');
    const mineNow = assigned !== '' && assigned === me;
    const otherHas = assigned !== '' && assigned !== me;
    show(claim, !closed && !mineNow && (!otherHas || sup));
    claim.textContent = otherHas ? t('case.take_over') : t('case.claim');
    claim.setAttribute('data-force', otherHas && sup ? 'true' : 'false');
    show($('release'), !closed && (mineNow || (sup && otherHas)));

    const hint = $('case-hint');
    if (!canAct && otherHas) hint.textContent = t('case.claimed_by_other', { name: assigned });
    else if (!canAct) hint.textContent = t('case.claim_first');
    show(hint, !canAct && !closed);

    // Fields.
    const dl = $('case-fields');
    dl.replaceChildren();
    field(dl, 'status', valueLabel('status', c.status));
    field(dl, 'assigned_to', assigned || t('queue.nobody'));
    field(dl, 'urgent', yesNo(!!c.urgent));
    field(dl, 'safe_to_call', yesNo(c.safe_to_call), c.safe_to_call === false ? 'danger' : '');
    if (c.contact) {
      const how = label('contact', c.contact) +
        (c.call_time ? ', ' + label('call_time', c.call_time) : '');
      field(dl, 'contact', how, c.contact === 'none' || c.contact === 'sms_only' ? 'danger' : '');
    }
    field(dl, 'consent', yesNo(c.consent));
    field(dl, 'notify_sms', yesNo(c.notify_sms));
    field(dl, 'sms_blocked', yesNo(c.sms_blocked), c.sms_blocked === true ? 'danger' : '');
    field(dl, 'topic', label('topic', c.topic));
    field(dl, 'subtopic', label('subtopic', c.subtopic));
    field(dl, 'oblast', label('oblast', c.oblast));
    field(dl, 'language', valueLabel('language', c.language));
    field(dl, 'channel', channelLabel(c.channel));
    field(dl, 'target_group', label('target_group', c.target_group));
    field(dl, 'details', c.details || '—', 'pre');
    field(dl, 'phone', c.phone || '—', 'mono');
    field(dl, 'created_at', fmtTime(c.created_at));
    field(dl, 'outcome', c.outcome || '—', 'pre');

    // Transcript and choices.
    const transcript = Array.isArray(c.transcript) ? c.transcript : [];
    $('case-transcript').replaceChildren(...transcript.map((s) =>
      // The screen's id is technical: kept for whoever debugs, not shown.
      el('li', { testid: 'transcript-item', attrs: { 'data-screen': s.screen, title: s.screen } }, [
        el('div', { class: 'pre', text: s.text })
      ])));
    if (transcript.length === 0) {
      $('case-transcript').appendChild(el('li', { class: 'muted', text: t('case.transcript_empty') }));
    }
    const choices = $('case-choices');
    choices.replaceChildren();
    const entries = c.choices && typeof c.choices === 'object' ? Object.entries(c.choices) : [];
    for (const [name, value] of entries) {
      choices.appendChild(el('dt', { text: choiceName(name) }));
      choices.appendChild(el('dd', { testid: 'choice-item', attrs: { 'data-choice': name }, text: choiceValue(name, value) }));
    }

    renderReferrals(c, canAct);

    // Notes.
    const notes = Array.isArray(c.notes) ? c.notes : [];
    $('case-notes').replaceChildren(...notes.map((n) =>
      el('li', { testid: 'note-item' }, [
        el('div', { class: 'meta', text: fmtTime(n.at) + ' · ' + (n.author || '') }),
        el('div', { class: 'pre note-text', text: n.text })
      ])));
    if (notes.length === 0) $('case-notes').appendChild(el('li', { class: 'muted', text: t('case.notes_empty') }));
    setFormDisabled($('note-form'), !canAct);

    // Messages sent to her.
    const messages = Array.isArray(c.messages) ? c.messages : [];
    $('case-messages').replaceChildren(...messages.map((m) =>
      el('li', { testid: 'message-item', attrs: { 'data-message-id': m.id } }, [
        el('div', { class: 'meta', text: fmtTime(m.created_at) + ' · ' + valueLabel('purpose', m.purpose) + ' · ' + valueLabel('msgstatus', m.status) }),
        el('div', { class: 'pre', text: m.body })
      ])));
    if (messages.length === 0) $('case-messages').appendChild(el('li', { class: 'muted', text: t('case.messages_empty') }));

    // Reply templates.
    const select = $('reply-template');
    const previous = select.value;
    const templates = Array.isArray(c.templates) ? c.templates : [];
    select.replaceChildren(...templates.map((tp) => el('option', { value: String(tp.id), text: tp.label || tp.id })));
    if (templates.some((tp) => String(tp.id) === previous)) select.value = previous;
    if (templates.length === 0) select.appendChild(el('option', { value: '', text: t('reply.none') }));
    updatePreview();
    setFormDisabled($('reply-form'), !canAct || c.sms_blocked === true || templates.length === 0);

    // Partners for a referral: those the rules would pick first, then the rest.
    const partnerSelect = $('refer-partner');
    const prevPartner = partnerSelect.value;
    const option = (p) => {
      const extra = [];
      if (p.paused) extra.push(t('refer.paused'));
      return el('option', {
        value: String(p.id),
        attrs: { 'data-suggested': p.suggested === true ? 'true' : 'false' },
        text: partnerLabel(p.id, p.name) + (extra.length ? ' (' + extra.join(', ') + ')' : '')
      });
    };
    const suggested = state.partners.filter((p) => p.suggested === true);
    const others = state.partners.filter((p) => p.suggested !== true);
    if (suggested.length) {
      partnerSelect.replaceChildren(
        el('optgroup', { testid: 'refer-suggested', attrs: { label: t('refer.suggested') } }, suggested.map(option)),
        el('optgroup', { testid: 'refer-others', attrs: { label: t('refer.others') } }, others.map(option)));
    } else {
      partnerSelect.replaceChildren(...others.map(option));
    }
    if (state.partners.some((p) => String(p.id) === prevPartner)) partnerSelect.value = prevPartner;
    setFormDisabled($('refer-form'), !canAct || closed || state.partners.length === 0);

    setFormDisabled($('close-form'), !canAct || closed);

    // A newly opened case: keyboard and screen-reader focus on its heading.
    if (state.focusCaseHeading) {
      state.focusCaseHeading = false;
      $('case-heading').focus();
    }
  }

  // Her choices in the menu (session variables) with readable names and values.
  const CHOICE_LABELS = {
    topic: 'topic', subtopic: 'subtopic', oblast: 'oblast', target_group: 'target_group',
    contact: 'contact', call_time: 'call_time'
  };
  function choiceName(name) {
    const dict = I18N[state.lang] || {};
    if (hasOwn(dict, 'field.' + name)) return dict['field.' + name];
    if (name === 'lang' || name === 'language') return t('field.language');
    return rawId('choice', name);
  }
  function choiceValue(name, value) {
    if (value === null || value === undefined) return '—';
    if (typeof value !== 'string') value = JSON.stringify(value);
    if (hasOwn(CHOICE_LABELS, name)) return label(CHOICE_LABELS[name], value);
    if (name === 'lang' || name === 'language') return valueLabel('language', value);
    if (/^(yes|no|true|false)$/.test(value)) return yesNo(value);
    return value;
  }

  function renderReferrals(c, canAct) {
    const box = $('case-referrals');
    const referrals = Array.isArray(c.referrals) ? c.referrals : [];
    const inactive = ['revoked', 'declined', 'closed'];
    const cards = referrals.map((r) => {
      const id = String(r.id);
      const dl = el('dl', { class: 'fields' });
      const add = (key, value, cls) => {
        if (value === undefined || value === null || value === '') return;
        dl.appendChild(el('dt', { text: t(key) }));
        dl.appendChild(el('dd', { class: cls || '', text: value }));
      };
      const why = explain(r);
      // The rule's id (rules.yaml) is for whoever edits the rules: a tooltip, not text.
      const rule = (r.explanation_parts && r.explanation_parts.rule) || r.rule || '';
      if (why.length) {
        dl.appendChild(el('dt', { text: t('ref.explanation') }));
        dl.appendChild(el('dd', {
          testid: 'referral-explanation',
          attrs: { 'data-rule': rule, title: rule ? t('ref.rule_id', { rule }) : null }
        }, why.map((line, i) => el('div', { class: i === 0 ? '' : 'meta', text: line }))));
      }
      add('ref.reason', r.reason, 'pre');
      add('ref.outcome', r.outcome, 'pre');
      add('ref.due_at', r.due_at ? fmtTime(r.due_at) : '');
      add('ref.created_at', r.created_at ? fmtTime(r.created_at) : '');
      const history = Array.isArray(r.history) ? r.history : [];
      const hist = el('ol', { class: 'history' }, history.map((h) =>
        el('li', { testid: 'referral-history-item', attrs: { 'data-action': h.action } }, [
          el('span', { class: 'meta', text: fmtTime(h.at) + ' · ' + actorLabel(h.actor) + ' · ' }),
          el('strong', { text: valueLabel('audit', h.action) }),
          h.detail ? el('span', { class: 'pre', text: historyDetail(h) }) : null
        ])));
      let revoke = null;
      if (!inactive.includes(String(r.status))) {
        const reason = el('input', {
          testid: 'referral-revoke-reason',
          attrs: { 'aria-label': t('ref.revoke_reason'), placeholder: t('ref.revoke_reason'), maxlength: '1000', required: true }
        });
        const button = el('button', { type: 'submit', class: 'small danger', testid: 'referral-revoke-submit', text: t('ref.revoke') });
        revoke = el('form', { class: 'inline' }, [reason, button]);
        revoke.addEventListener('submit', (ev) => {
          ev.preventDefault();
          const text = reason.value.trim();
          if (!text) return;
          busy(button, async () => {
            const answer = await api('POST', '/referrals/' + encodeURIComponent(id) + '/revoke', { reason: text });
            setStatus({ key: 'msg.saved' }, 'ok');
            await afterAction(answer);
          });
        });
        setFormDisabled(revoke, !canAct);
      }
      return el('div', { class: 'referral', testid: 'referral-item', attrs: { 'data-referral-id': id, 'data-status': r.status } }, [
        el('div', { class: 'referral-head' }, [
          el('strong', { text: partnerLabel(r.partner) }),
          ' ',
          el('span', { class: 'badge', text: valueLabel('rstatus', r.status) })
        ]),
        dl,
        history.length ? el('div', { class: 'meta', text: t('ref.history') }) : null,
        hist,
        revoke
      ]);
    });
    box.replaceChildren(...cards);
    if (referrals.length === 0) box.appendChild(el('p', { class: 'muted', text: t('case.referrals_empty') }));
  }

  // Why a referral went where it went, as sentences in the operator's
  // language, from explanation_parts. First line: the rule's match; then one
  // line per partner the rules passed over; last, the rule's id (small print).
  function explain(r) {
    const x = r.explanation_parts;
    const lines = [];
    const partner = partnerLabel(r.partner);
    if (x && typeof x === 'object') {
      if (x.fallback) {
        lines.push(t('expl.fallback', { partner }));
      } else {
        const parts = [];
        for (const m of (Array.isArray(x.matched) ? x.matched : [])) {
          if (!m || !m.attr) continue;
          if (m.attr === 'urgent') continue;  // said once below, from x.urgent
          const value = m.attr === 'language' ? valueLabel('language', m.value)
            : m.attr === 'hours' ? String(m.value)
            : label(m.attr, m.value);
          parts.push(valueLabel('expl.attr', m.attr) + ' — ' + value);
        }
        const urgentMatched = (Array.isArray(x.matched) ? x.matched : []).some((m) => m && m.attr === 'urgent');
        if (x.urgent === true || (x.urgent === undefined && urgentMatched)) parts.unshift(t('expl.urgent_yes'));
        else if (x.urgent === false) parts.unshift(t('expl.urgent_no'));
        if (x.within_hours) parts.push(t('expl.within_hours'));
        lines.push(parts.length ? t('expl.matched', { parts: parts.join(', '), partner })
          : t('expl.matched_none', { partner }));
      }
      for (const sk of (Array.isArray(x.skipped) ? x.skipped : [])) {
        if (!sk) continue;
        lines.push(t('expl.skipped', { partner: partnerLabel(sk.partner), why: valueLabel('why', sk.why) }));
      }
    }
    return lines;
  }

  // "operator:aida" → "aida", "sms:legal_aid_osh" / "partner:..." → the partner's name.
  function actorLabel(actor) {
    const a = String(actor || '');
    const m = /^(operator|sms|partner|api):(.+)$/.exec(a);
    if (!m) return a === 'system' ? t('actor.system') : a;
    if (m[1] === 'operator') return m[2];
    return partnerLabel(m[2]);
  }

  // The system's own history details are English; known ones are translated,
  // anything else (a partner's or operator's words) is shown as written.
  function historyDetail(h) {
    const d = String(h.detail || '');
    if (d === 'to operators') return ' ' + t('rdetail.to', { partner: t('ref.to_operators') });
    const m = /^to ([a-z0-9_\-]+)$/.exec(d);
    if (m) return ' ' + t('rdetail.to', { partner: partnerLabel(m[1]) });
    if (d === 'the hotline closed the case') return ' — ' + t('rdetail.case_closed');
    return ' — ' + d;
  }

  function updatePreview() {
    const c = state.currentCase;
    const id = $('reply-template').value;
    const tp = c && Array.isArray(c.templates) ? c.templates.find((x) => String(x.id) === id) : null;
    const text = tp ? String(tp.text || '').split('{ref}').join(c.reference) : '';
    $('reply-preview').textContent = text;
  }

  async function caseAction(button, path, body, after) {
    const ref = state.caseRef;
    if (!ref) return;
    await busy(button, async () => {
      let answer;
      try {
        answer = await api('POST', '/cases/' + encodeURIComponent(ref) + path, body);
      } catch (err) {
        // Someone else may have changed the case: show its state now.
        if (err.status === 409) { reportError(err); await reloadCase().catch(() => {}); return; }
        throw err;
      }
      if (after) after(answer);
      else setStatus({ key: 'msg.saved' }, 'ok');
      await afterAction(answer);
    });
  }

  // ---------------------------------------------------------------- search

  // GET /search?q=: a code (with or without "R-") or the last 4 digits of
  // her number. One match opens the case; several are listed.
  async function onSearch(ev) {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    if (!q) { setStatus({ key: 'search.empty_query' }, 'error'); $('search-q').focus(); return; }
    await busy($('search-submit'), async () => {
      const answer = await api('GET', '/search?q=' + encodeURIComponent(q));
      const matches = Array.isArray(answer.matches) ? answer.matches : [];
      if (matches.length === 0) {
        setStatus({ key: 'search.none', params: { q } }, 'error');
        return;
      }
      if (matches.length === 1) {
        setStatus(null);
        const ref = String(matches[0].reference);
        const target = '#/case/' + encodeURIComponent(ref);
        if (location.hash === target) { stopPolling(); showView('case'); openCase(ref); } else location.hash = target;
        return;
      }
      state.search = { q, matches };
      setStatus({ key: 'search.many', params: { n: matches.length } }, 'info');
      if (location.hash === '#/search') { showView('search'); renderSearch(state.search); } else location.hash = '#/search';
    });
  }

  function renderSearch(result) {
    const rows = result.matches.map((m) => {
      const ref = String(m.reference || '');
      const open = () => { location.hash = '#/case/' + encodeURIComponent(ref); };
      const tr = el('tr', {
        class: 'queue-row' + (m.urgent ? ' urgent' : ''),
        testid: 'search-row-' + ref,
        attrs: { tabindex: '0', 'data-reference': ref }
      }, [
        el('td', { class: 'ref' }, [
          m.urgent ? el('span', { class: 'badge urgent', text: t('queue.urgent') }) : null,
          el('a', { text: ref, attrs: { href: '#/case/' + encodeURIComponent(ref) } })
        ]),
        el('td', { text: valueLabel('status', m.status) }),
        el('td', { text: label('topic', m.topic) }),
        el('td', { text: label('oblast', m.oblast) }),
        el('td', { text: valueLabel('language', m.language) }),
        el('td', { text: channelLabel(m.channel) }),
        el('td', { text: fmtTime(m.created_at) })
      ]);
      tr.addEventListener('click', (ev) => { if (!ev.target.closest('a')) open(); });
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      return tr;
    });
    $('search-body').replaceChildren(...rows);
    labelCells($('search-body').closest('table'));
    $('search-summary').textContent = t('search.many', { n: result.matches.length });
  }

  // ---------------------------------------------------------------- dashboard

  // GET /dashboard (supervisor, programme). Counts are numbers (>= 5), "<5"
  // (0..4) or "x" (hidden so that a "<5" cannot be worked out from a total).
  // Tables show "<5" as is and "x" as a dash with an explanation; charts draw
  // both as gaps. Charts come from Chart.js served by the gateway itself
  // (vendor/chart.js, Debian's libjs-chart.js); without it the tables remain.

  // Each at least 3:1 against the white chart background (WCAG 1.4.11).
  const CHART_COLOURS = ['#0072b2', '#c24f00', '#007a5e', '#a8457f', '#8a6300', '#3f51b5',
    '#882255', '#2e7d7d', '#6b6b6b', '#332288', '#6f6f1f', '#aa4499'];
  let charts = [];
  let chartLib = null;   // Promise<boolean>

  function destroyCharts() {
    for (const c of charts) { try { c.destroy(); } catch (e) { /* gone */ } }
    charts = [];
    document.documentElement.setAttribute('data-charts', '0');
  }

  function loadChartLib() {
    if (window.Chart) return Promise.resolve(true);
    if (chartLib) return chartLib;
    chartLib = new Promise((resolve) => {
      const script = document.createElement('script');
      script.src = 'vendor/chart.js';
      script.onload = () => resolve(!!window.Chart);
      script.onerror = () => { chartLib = null; resolve(false); };
      document.head.appendChild(script);
    });
    return chartLib;
  }

  const isCount = (v) => typeof v === 'number' && Number.isFinite(v);
  // A COUNT or RATE as a number for a chart: suppressed values are gaps.
  const chartValue = (v) => (isCount(v) ? v : null);

  function countCell(v, extra) {
    const props = { class: 'num' + (extra ? ' ' + extra : '') };
    if (isCount(v)) return el('td', Object.assign(props, { text: String(v) }));
    if (v === '<5') return el('td', Object.assign(props, { text: '<5', attrs: { 'data-suppressed': 'small', title: t('dash.small_title') } }));
    if (v === 'x') {
      return el('td', Object.assign(props, {
        attrs: { 'data-suppressed': 'hidden', title: t('dash.hidden_title') }
      }), [el('span', { attrs: { 'aria-hidden': 'true' }, text: '—' }), el('span', { class: 'offscreen', text: t('dash.hidden_title') })]);
    }
    return el('td', Object.assign(props, { text: v === null || v === undefined ? '—' : String(v) }));
  }

  function rateCell(v, unit) {
    if (!isCount(v)) return el('td', { class: 'num', text: '—', attrs: { title: t('dash.rate_none') } });
    return el('td', { class: 'num', text: (Math.round(v * 10) / 10).toLocaleString(state.lang === 'ky' ? 'ky-KG' : 'ru-RU') + (unit || '') });
  }

  function fmtDay(iso, short) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(iso || ''));
    if (!m) return String(iso || '');
    return short ? m[3] + '.' + m[2] : m[3] + '.' + m[2] + '.' + m[1];
  }

  function dashQuery() {
    const q = [];
    const from = $('dash-from').value;
    const to = $('dash-to').value;
    if (from) q.push('from=' + encodeURIComponent(from));
    if (to) q.push('to=' + encodeURIComponent(to));
    q.push('oblast=' + encodeURIComponent($('dash-oblast').value || 'all'));
    return q.join('&');
  }

  function fillOblasts() {
    const select = $('dash-oblast');
    const prev = select.value || 'all';
    const byLang = state.labels && state.labels[state.lang];
    const ids = byLang && byLang.oblast ? Object.keys(byLang.oblast) : ['batken', 'jalal_abad', 'osh', 'talas', 'other'];
    select.replaceChildren(el('option', { value: 'all', text: t('dash.all_oblasts') }),
      ...ids.map((id) => el('option', { value: id, text: label('oblast', id) })));
    select.value = ids.includes(prev) ? prev : 'all';
  }

  async function showDashboard() {
    showView('dashboard');
    if (state.labelsPromise) await state.labelsPromise;
    if (state.view !== 'dashboard') return;
    fillOblasts();
    if (state.dashboard) renderDashboard(state.dashboard);
    else await loadDashboard();
    $('dash-heading').focus();
  }

  async function loadDashboard() {
    await busy($('dash-submit'), async () => {
      setStatus({ key: 'msg.loading' }, 'info');
      const answer = await api('GET', '/dashboard?' + dashQuery());
      setStatus(null);
      state.dashboard = answer;
      const period = answer.period || {};
      if (period.from) $('dash-from').value = period.from;
      if (period.to) $('dash-to').value = period.to;
      if (period.oblast) $('dash-oblast').value = period.oblast;
      renderDashboard(answer);
    });
  }

  async function downloadDashboardCsv() {
    await busy($('dash-csv'), async () => {
      const res = await api('GET', '/dashboard.csv?' + dashQuery(), undefined, { raw: true, accept: 'text/csv' });
      const blob = await res.blob();
      const cd = res.headers.get('Content-Disposition') || '';
      const m = /filename="?([A-Za-z0-9._-]+)"?/.exec(cd);
      const name = m ? m[1] : 'hotline-dashboard-' + ($('dash-from').value || '') + '-' + ($('dash-to').value || '') + '.csv';
      const url = URL.createObjectURL(new Blob([blob], { type: 'text/csv' }));
      const a = el('a', { attrs: { href: url, download: name }, class: 'offscreen' });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      setStatus({ key: 'dash.downloaded' }, 'ok');
    });
  }

  function wireDashboard() {
    $('dash-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadDashboard(); });
    $('dash-csv').addEventListener('click', downloadDashboardCsv);
  }

  // A column id of a cases table, readable.
  function dimLabel(dim, id) {
    if (id === 'unspecified') return t('dash.unspecified');
    if (dim === 'channel') return channelLabel(id);
    return label(dim, id);
  }

  // One section: heading, chart (if the library is there), table.
  function dashSection(key, title, note) {
    const canvas = el('canvas', { testid: 'chart-' + key, attrs: { role: 'img', 'aria-label': title } });
    const box = el('div', { class: 'chart-box' }, [canvas]);
    const section = el('section', { class: 'card dash-section', testid: 'dash-' + key }, [
      el('h3', { text: title }),
      note ? el('p', { class: 'meta', text: note }) : null,
      box
    ]);
    return { section, canvas, box };
  }

  function table(key, heads, rows) {
    return el('div', { class: 'table-wrap' }, [el('table', { class: 'grid', testid: 'dash-table-' + key }, [
      el('thead', null, [el('tr', null, heads.map((h, i) => el('th', { class: i ? 'num' : '', attrs: { scope: 'col' }, text: h })))]),
      el('tbody', null, rows)
    ])]);
  }

  function renderDashboard(d) {
    destroyCharts();
    const wrap = $('dash-tables');
    const sections = [];
    const chartJobs = [];
    const weeks = (d.period && Array.isArray(d.period.weeks)) ? d.period.weeks : [];

    // Cases per week by topic / oblast / channel / target group.
    for (const dim of ['topic', 'oblast', 'channel', 'target_group']) {
      const tb = d.cases && d.cases[dim];
      if (!tb) continue;
      const cols = Array.isArray(tb.columns) ? tb.columns : [];
      const rowsIn = Array.isArray(tb.rows) ? tb.rows : [];
      const { section, canvas, box } = dashSection('cases-' + dim, t('dash.cases_by.' + dim));
      const rows = rowsIn.map((r) => el('tr', { attrs: { 'data-week': r.week } }, [
        el('th', { attrs: { scope: 'row' }, text: fmtDay(r.week) }),
        ...cols.map((c) => countCell(r.counts ? r.counts[c] : undefined)),
        countCell(r.total, 'total')
      ]));
      rows.push(el('tr', { class: 'total-row' }, [
        el('th', { attrs: { scope: 'row' }, text: t('dash.total') }),
        ...cols.map((c) => countCell(tb.totals ? tb.totals[c] : undefined)),
        countCell(tb.total, 'total')
      ]));
      section.appendChild(table('cases-' + dim, [t('dash.week'), ...cols.map((c) => dimLabel(dim, c)), t('dash.total')], rows));
      sections.push(section);
      const labels = (rowsIn.length ? rowsIn.map((r) => r.week) : weeks).map((w) => fmtDay(w, true));
      chartJobs.push({ canvas, box, config: {
        type: 'bar',
        data: {
          labels,
          datasets: cols.map((c, i) => ({
            label: dimLabel(dim, c),
            data: rowsIn.map((r) => chartValue(r.counts ? r.counts[c] : null)),
            backgroundColor: CHART_COLOURS[i % CHART_COLOURS.length]
          }))
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
      } });
    }

    // Referral funnel per partner.
    const refs = d.referrals || {};
    const funnelRows = Array.isArray(refs.rows) ? refs.rows : [];
    const FUNNEL = ['created', 'accepted', 'done', 'declined', 'overdue', 'rerouted'];
    {
      const { section, canvas, box } = dashSection('funnel', t('dash.funnel'));
      const rows = funnelRows.map((r) => el('tr', { attrs: { 'data-partner': r.partner } }, [
        el('th', { attrs: { scope: 'row' }, text: partnerLabel(r.partner) }),
        ...FUNNEL.map((k) => countCell(r[k]))
      ]));
      if (refs.total) {
        rows.push(el('tr', { class: 'total-row' }, [
          el('th', { attrs: { scope: 'row' }, text: t('dash.all_partners') }), ...FUNNEL.map((k) => countCell(refs.total[k]))]));
      }
      section.appendChild(table('funnel', [t('dash.partner'), ...FUNNEL.map((k) => t('dash.f.' + k))], rows));
      sections.push(section);
      chartJobs.push({ canvas, box, tall: funnelRows.length > 4, config: {
        type: 'bar',
        data: {
          labels: funnelRows.map((r) => partnerLabel(r.partner)),
          datasets: FUNNEL.map((k, i) => ({
            label: t('dash.f.' + k), data: funnelRows.map((r) => chartValue(r[k])),
            backgroundColor: CHART_COLOURS[i % CHART_COLOURS.length]
          }))
        },
        options: { indexAxis: 'y', scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
      } });
    }

    // Time to first contact and SLA kept, per partner.
    {
      const { section, canvas, box } = dashSection('sla', t('dash.sla'));
      const line = (r, name) => el('tr', { attrs: { 'data-partner': r.partner } }, [
        el('th', { attrs: { scope: 'row' }, text: name }),
        countCell(r.answered), rateCell(r.first_contact_hours, ' ' + t('dash.hours_unit')),
        countCell(r.sla_total), countCell(r.sla_kept), countCell(r.sla_missed), rateCell(r.sla_kept_percent, ' %')
      ]);
      const rows = funnelRows.map((r) => line(r, partnerLabel(r.partner)));
      if (refs.total) {
        const tr = line(refs.total, t('dash.all_partners'));
        tr.classList.add('total-row');
        rows.push(tr);
      }
      section.appendChild(table('sla', [t('dash.partner'), t('dash.f.answered'), t('dash.first_contact'),
        t('dash.sla_total'), t('dash.sla_kept'), t('dash.sla_missed'), t('dash.sla_percent')], rows));
      sections.push(section);
      chartJobs.push({ canvas, box, tall: funnelRows.length > 4, config: {
        type: 'bar',
        data: {
          labels: funnelRows.map((r) => partnerLabel(r.partner)),
          datasets: [{ label: t('dash.sla_percent'), data: funnelRows.map((r) => chartValue(r.sla_kept_percent)),
            backgroundColor: CHART_COLOURS[2] }]
        },
        options: { indexAxis: 'y', scales: { x: { beginAtZero: true, max: 100 } } }
      } });
    }

    // SMS delivery per channel.
    {
      const sms = d.sms || {};
      const smsRows = Array.isArray(sms.rows) ? sms.rows : [];
      const SMS = ['messages', 'queued', 'sent', 'delivered', 'failed', 'no_report', 'dead'];
      const { section, canvas, box } = dashSection('sms', t('dash.sms'), t('dash.sms_note'));
      const line = (r, name) => el('tr', { attrs: { 'data-channel': r.channel } }, [
        el('th', { attrs: { scope: 'row' }, text: name }),
        ...SMS.map((k) => countCell(r[k])), rateCell(r.delivery_rate_percent, ' %')
      ]);
      const rows = smsRows.map((r) => line(r, channelLabel(r.channel)));
      if (sms.total) {
        const tr = line(sms.total, t('dash.all_channels'));
        tr.classList.add('total-row');
        rows.push(tr);
      }
      section.appendChild(table('sms', [t('dash.channel'), ...SMS.map((k) => t('dash.s.' + k)), t('dash.delivery_rate')], rows));
      sections.push(section);
      chartJobs.push({ canvas, box, config: {
        type: 'bar',
        data: {
          labels: smsRows.map((r) => channelLabel(r.channel)),
          datasets: [{ label: t('dash.delivery_rate'), data: smsRows.map((r) => chartValue(r.delivery_rate_percent)),
            backgroundColor: CHART_COLOURS[0] }]
        },
        options: { scales: { y: { beginAtZero: true, max: 100 } } }
      } });
    }

    wrap.replaceChildren(...sections);
    for (const tb of wrap.querySelectorAll('table.grid')) labelCells(tb);
    for (const job of chartJobs) if (job.tall) job.box.classList.add('tall');

    // Charts when the library is there; the tables stand on their own.
    const gen = (state.dashGen = (state.dashGen || 0) + 1);
    loadChartLib().then((ok) => {
      if (gen !== state.dashGen || state.dashboard !== d) return;
      show($('dash-nochart'), !ok);
      wrap.classList.toggle('no-charts', !ok);
      if (!ok) return;
      const Chart = window.Chart;
      for (const job of chartJobs) {
        const cfg = job.config;
        cfg.options = Object.assign({
          animation: false,
          responsive: true,
          maintainAspectRatio: false,
          spanGaps: false,
          plugins: { legend: { position: 'bottom', labels: { boxWidth: 12 } } },
          locale: state.lang === 'ky' ? 'ky-KG' : 'ru-RU'
        }, cfg.options);
        try { charts.push(new Chart(job.canvas, cfg)); } catch (e) { job.box.hidden = true; }
      }
      document.documentElement.setAttribute('data-charts', String(charts.length));
    });
  }

  // ---------------------------------------------------------------- supervisor views

  async function loadAudit() {
    const ref = $('audit-case').value.trim();
    const q = '/audit?limit=200' + (ref ? '&case=' + encodeURIComponent(ref) : '');
    await busy($('audit-submit'), async () => {
      const answer = await api('GET', q);
      renderAudit(answer);
    });
  }

  function renderAudit(answer) {
    state.audit = answer;
    const events = Array.isArray(answer.events) ? answer.events : [];
    $('audit-body').replaceChildren(...events.map((e) =>
      el('tr', { testid: 'audit-row', attrs: { 'data-action': e.action, 'data-actor': e.actor, 'data-case': e.case_reference } }, [
        el('td', { text: fmtTime(e.at) }),
        el('td', { class: 'mono', text: e.actor }),
        el('td', { text: valueLabel('audit', e.action) }),
        el('td', { class: 'mono', text: e.case_reference || '' }),
        el('td', { class: 'pre', text: auditDetail(e.detail) })
      ])));
    labelCells($('audit-body').closest('table'));
    show($('audit-empty'), events.length === 0);
  }

  // The system's own audit details ("code", "number ending", ...) are
  // translated; anything else is shown as written.
  function auditDetail(d) {
    if (d === null || d === undefined || d === '') return '';
    if (typeof d !== 'string') return JSON.stringify(d);
    const dict = I18N[state.lang] || {};
    return hasOwn(dict, 'auditdetail.' + d) ? dict['auditdetail.' + d] : d;
  }

  async function loadOperators() {
    try {
      renderOperators(await api('GET', '/operators'));
    } catch (err) { reportError(err); }
  }

  function renderOperators(answer) {
    state.operators = answer;
    const ops = Array.isArray(answer.operators) ? answer.operators : [];
    $('operators-body').replaceChildren(...ops.map((o) => {
      const name = String(o.username);
      const toggle = el('button', {
        type: 'button', class: 'small' + (o.active ? ' danger' : ''), testid: 'operator-toggle-' + name,
        text: o.active ? t('ops.disable') : t('ops.enable')
      });
      toggle.addEventListener('click', () => busy(toggle, async () => {
        await api('PATCH', '/operators/' + encodeURIComponent(name), { active: !o.active });
        setStatus({ key: 'msg.saved' }, 'ok');
        await loadOperators();
      }));
      return el('tr', { testid: 'operator-row-' + name, class: o.active ? '' : 'inactive' }, [
        el('td', { class: 'mono', text: name }),
        el('td', { text: o.display_name }),
        el('td', { text: valueLabel('role', o.role) }),
        el('td', { text: yesNo(!!o.active) }),
        el('td', { text: fmtTime(o.created_at) }),
        el('td', null, [toggle])
      ]);
    }));
    labelCells($('operators-body').closest('table'));
  }

  async function onAddOperator(ev) {
    ev.preventDefault();
    const body = {
      username: $('op-new-username').value.trim(),
      display_name: $('op-new-display').value.trim(),
      role: $('op-new-role').value,
      password: $('op-new-password').value
    };
    await busy($('op-new-submit'), async () => {
      await api('POST', '/operators', body);
      $('op-new-form').reset();
      setStatus({ key: 'ops.added', params: { name: body.username } }, 'ok');
      await loadOperators();
    });
  }

  async function loadPartnersView() {
    try {
      renderPartners(await api('GET', '/partners'));
    } catch (err) { reportError(err); }
  }

  function renderPartners(answer) {
    state.partnersList = answer;
    const partners = Array.isArray(answer.partners) ? answer.partners : [];
    $('partners-body').replaceChildren(...partners.map((p) => {
      const id = String(p.id);
      const toggle = el('button', {
        type: 'button', class: 'small', testid: 'partner-toggle-' + id,
        text: p.paused ? t('partners.resume') : t('partners.pause')
      });
      toggle.addEventListener('click', () => busy(toggle, async () => {
        await api('POST', '/partners/' + encodeURIComponent(id) + (p.paused ? '/resume' : '/pause'), {});
        setStatus({ key: 'msg.saved' }, 'ok');
        await loadPartnersView();
      }));
      return el('tr', { testid: 'partner-row-' + id, class: p.paused ? 'inactive' : '' }, [
        el('td', { class: 'mono', text: id }),
        el('td', { text: partnerLabel(id, p.name) }),
        el('td', { text: typeof p.open === 'number' ? String(p.open) : yesNo(p.open) }),
        el('td', { text: yesNo(!!p.paused) }),
        el('td', null, [toggle])
      ]);
    }));
    labelCells($('partners-body').closest('table'));
  }

  async function downloadStats() {
    await busy($('stats-download'), async () => {
      const res = await api('GET', '/stats.csv', undefined, { raw: true, accept: 'text/csv' });
      const blob = await res.blob();
      const url = URL.createObjectURL(new Blob([blob], { type: 'text/csv' }));
      const d = new Date();
      const a = el('a', {
        attrs: { href: url, download: 'hotline-stats-' + d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + '.csv' },
        class: 'offscreen'
      });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      setStatus({ key: 'stats.downloaded' }, 'ok');
    });
  }

  // ---------------------------------------------------------------- wiring

  function wire() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    for (const l of LANGS) $('lang-' + l).addEventListener('click', () => setLang(l));
    for (const b of document.querySelectorAll('.filter')) {
      b.addEventListener('click', () => setFilter(b.getAttribute('data-filter')));
    }
    window.addEventListener('hashchange', route);

    $('back-to-queue').addEventListener('click', () => { location.hash = '#/queue'; });
    $('claim').addEventListener('click', () => {
      const force = $('claim').getAttribute('data-force') === 'true';
      caseAction($('claim'), '/claim', force ? { force: true } : {});
    });
    $('release').addEventListener('click', () => caseAction($('release'), '/release', {}));
    $('note-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const text = $('note-text').value.trim();
      if (!text) return;
      caseAction($('note-submit'), '/notes', { text }, () => {
        $('note-text').value = '';
        setStatus({ key: 'msg.saved' }, 'ok');
      });
    });
    $('reply-template').addEventListener('change', updatePreview);
    $('reply-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const template = $('reply-template').value;
      if (!template) return;
      caseAction($('reply-submit'), '/reply', { template }, (answer) => {
        setStatus({ key: 'reply.sent', params: { text: (answer && answer.text) || '' } }, 'ok');
      });
    });
    $('refer-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const partner = $('refer-partner').value;
      if (!partner) return;
      caseAction($('refer-submit'), '/refer', { partner, note: $('refer-note').value.trim() }, () => {
        $('refer-note').value = '';
        setStatus({ key: 'msg.saved' }, 'ok');
      });
    });
    $('close-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const outcome = $('close-outcome').value.trim();
      if (!outcome) return;
      caseAction($('close-submit'), '/close', { outcome }, () => {
        $('close-outcome').value = '';
        setStatus({ key: 'msg.saved' }, 'ok');
      });
    });

    $('audit-form').addEventListener('submit', (ev) => { ev.preventDefault(); loadAudit(); });
    $('search-form').addEventListener('submit', onSearch);
    wireDashboard();
    $('op-new-form').addEventListener('submit', onAddOperator);
    $('stats-download').addEventListener('click', downloadStats);
  }

  async function start() {
    let lang = null;
    try { lang = localStorage.getItem(LANG_KEY); } catch (e) { /* private mode */ }
    state.lang = LANGS.includes(lang) ? lang : 'ru';
    applyStatic();
    wire();
    setFilter('all');

    state.token = sessionStorage.getItem(TOKEN_KEY);
    if (!state.token) { showLogin(); return; }
    try { state.me = JSON.parse(sessionStorage.getItem(ME_KEY) || 'null'); } catch (e) { state.me = null; }
    try {
      state.me = await api('GET', '/me');
      sessionStorage.setItem(ME_KEY, JSON.stringify(state.me));
      enterApp();
    } catch (err) {
      if (err.handled) return;
      if (state.me) { enterApp(); reportError(err); } else { showLogin(); reportError(err); }
    }
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
