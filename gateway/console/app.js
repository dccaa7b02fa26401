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

  // Translated label for an API value (topic, oblast, ...) or the raw value.
  function valueLabel(prefix, value) {
    if (value === null || value === undefined || value === '') return '—';
    const key = prefix + '.' + value;
    const dict = I18N[state.lang] || {};
    return Object.prototype.hasOwnProperty.call(dict, key) ? dict[key] : String(value);
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
  }

  class ApiError extends Error {
    constructor(status, reason, extra) {
      super(reason);
      this.status = status;
      this.reason = reason;
      Object.assign(this, extra || {});
    }
  }

  function reportError(err) {
    if (!(err instanceof ApiError)) {
      setStatus({ key: 'msg.error', params: { reason: String(err && err.message || err) } }, 'error');
      return;
    }
    if (err.handled) return;
    if (err.status === 0) { setStatus({ key: 'msg.network' }, 'error'); return; }
    if (err.status === 403) {
      setStatus({ text: t('msg.forbidden') + (err.reason ? ' (' + err.reason + ')' : '') }, 'error');
      return;
    }
    setStatus({ key: 'msg.error', params: { reason: err.reason || ('HTTP ' + err.status) } }, 'error');
  }

  // ---------------------------------------------------------------- API

  async function readReason(res) {
    try {
      const body = await res.json();
      if (body && typeof body.error === 'string') return body.error;
    } catch (e) { /* not JSON */ }
    return 'HTTP ' + res.status;
  }

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
      throw new ApiError(res.status, await readReason(res),
        { retryAfter: res.headers.get('Retry-After') });
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
      setLoginMsg('msg.error', { reason: await readReason(res) });
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
    for (const id of ['queue-body', 'dead-body', 'audit-body', 'operators-body', 'partners-body',
      'case-fields', 'case-transcript', 'case-choices', 'case-referrals', 'case-notes',
      'case-messages', 'reply-template', 'refer-partner']) {
      $(id).replaceChildren();
    }
    $('reply-preview').textContent = '';
    for (const id of ['note-text', 'close-outcome', 'refer-note', 'audit-case']) $(id).value = '';
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
    route();
  }

  // ---------------------------------------------------------------- views and routing

  const VIEWS = ['login', 'queue', 'case', 'audit', 'operators', 'partners'];

  function showView(name) {
    state.view = name;
    for (const v of VIEWS) show($(v + '-view'), v === name);
    const tab = name === 'case' ? 'queue' : name;
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
    const page = parts[0] || 'queue';
    if (page !== 'case') { state.caseRef = null; state.currentCase = null; }
    if (['audit', 'operators', 'partners'].includes(page) && !isSupervisor()) {
      location.hash = '#/queue';
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
        el('td', { text: valueLabel('topic', it.topic) }),
        el('td', { text: valueLabel('oblast', it.oblast) }),
        el('td', { text: valueLabel('language', it.language) }),
        el('td', { text: it.channel ? String(it.channel).toUpperCase() : '—' }),
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
        el('td', { text: m.purpose }),
        el('td', { text: m.channel }),
        el('td', { class: 'mono', text: m.recipient }),
        el('td', { text: m.attempts }),
        el('td', { class: 'error-text', text: m.last_error }),
        el('td', { text: fmtTime(m.updated_at) }),
        el('td', null, [retry])
      ]);
    });
    $('dead-body').replaceChildren(...dead);
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
    $('case-reference').textContent = ref;
    setStatus({ key: 'msg.loading' }, 'info');
    try {
      const [c, partners] = await Promise.all([
        api('GET', '/cases/' + encodeURIComponent(ref)),
        api('GET', '/partners').catch((e) => { if (e.handled) throw e; return { partners: [] }; })
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
      const how = valueLabel('contact', c.contact) +
        (c.call_time ? ', ' + valueLabel('call_time', c.call_time) : '');
      field(dl, 'contact', how, c.contact === 'none' || c.contact === 'sms_only' ? 'danger' : '');
    }
    field(dl, 'consent', yesNo(c.consent));
    field(dl, 'notify_sms', yesNo(c.notify_sms));
    field(dl, 'sms_blocked', yesNo(c.sms_blocked), c.sms_blocked === true ? 'danger' : '');
    field(dl, 'topic', valueLabel('topic', c.topic));
    field(dl, 'subtopic', c.subtopic || '—');
    field(dl, 'oblast', valueLabel('oblast', c.oblast));
    field(dl, 'language', valueLabel('language', c.language));
    field(dl, 'channel', c.channel ? String(c.channel).toUpperCase() : '—');
    field(dl, 'target_group', valueLabel('group', c.target_group));
    field(dl, 'details', c.details || '—', 'pre');
    field(dl, 'phone', c.phone || '—', 'mono');
    field(dl, 'created_at', fmtTime(c.created_at));
    field(dl, 'outcome', c.outcome || '—', 'pre');

    // Transcript and choices.
    const transcript = Array.isArray(c.transcript) ? c.transcript : [];
    $('case-transcript').replaceChildren(...transcript.map((s) =>
      el('li', { testid: 'transcript-item' }, [
        el('span', { class: 'meta', text: s.screen }),
        el('div', { class: 'pre', text: s.text })
      ])));
    if (transcript.length === 0) {
      $('case-transcript').appendChild(el('li', { class: 'muted', text: t('case.transcript_empty') }));
    }
    const choices = $('case-choices');
    choices.replaceChildren();
    const entries = c.choices && typeof c.choices === 'object' ? Object.entries(c.choices) : [];
    for (const [name, value] of entries) {
      choices.appendChild(el('dt', { text: name }));
      choices.appendChild(el('dd', { testid: 'choice-item', text: typeof value === 'string' ? value : JSON.stringify(value) }));
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
        el('div', { class: 'meta', text: fmtTime(m.created_at) + ' · ' + (m.purpose || '') + ' · ' + (m.status || '') }),
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

    // Partners for a referral.
    const partnerSelect = $('refer-partner');
    const prevPartner = partnerSelect.value;
    partnerSelect.replaceChildren(...state.partners.map((p) => {
      const extra = [];
      if (p.paused) extra.push(t('refer.paused'));
      return el('option', {
        value: String(p.id),
        text: (p.name || p.id) + (extra.length ? ' (' + extra.join(', ') + ')' : '')
      });
    }));
    if (state.partners.some((p) => String(p.id) === prevPartner)) partnerSelect.value = prevPartner;
    setFormDisabled($('refer-form'), !canAct || closed || state.partners.length === 0);

    setFormDisabled($('close-form'), !canAct || closed);
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
      add('ref.rule', r.rule, 'mono');
      add('ref.explanation', r.explanation, 'pre');
      add('ref.reason', r.reason, 'pre');
      add('ref.outcome', r.outcome, 'pre');
      add('ref.due_at', r.due_at ? fmtTime(r.due_at) : '');
      add('ref.created_at', r.created_at ? fmtTime(r.created_at) : '');
      const history = Array.isArray(r.history) ? r.history : [];
      const hist = el('ol', { class: 'history' }, history.map((h) =>
        el('li', { testid: 'referral-history-item' }, [
          el('span', { class: 'meta', text: fmtTime(h.at) + ' · ' + (h.actor || '') + ' · ' }),
          el('strong', { text: h.action }),
          h.detail ? el('span', { class: 'pre', text: ' — ' + h.detail }) : null
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
          el('strong', { text: r.partner || '—' }),
          ' ',
          el('span', { class: 'badge', text: valueLabel('refstatus', r.status) })
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
        el('td', { text: e.action }),
        el('td', { class: 'mono', text: e.case_reference || '' }),
        el('td', { class: 'pre', text: typeof e.detail === 'string' ? e.detail : (e.detail ? JSON.stringify(e.detail) : '') })
      ])));
    show($('audit-empty'), events.length === 0);
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
        el('td', { text: p.name }),
        el('td', { text: typeof p.open === 'number' ? String(p.open) : yesNo(p.open) }),
        el('td', { text: yesNo(!!p.paused) }),
        el('td', null, [toggle])
      ]);
    }));
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
