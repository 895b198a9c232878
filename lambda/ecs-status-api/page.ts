/**
 * The status page: one self-contained HTML document (its style and script inline, no CDN, no font or image to
 * fetch), served by the same function at `GET /` to a browser. It reads `services` from the same API, page by page,
 * and shows the services grouped by cluster in accessible tables: health as a coloured badge with its text label and
 * symbol (never colour alone), the rule that decided it, tasks, rollout, last event and tags. A filter box (names and
 * tags, `key=value`), a health filter, sortable columns, and auto-refresh (which can be paused) with the time of the
 * data shown. The filter is kept in the address (`#q=...&health=...`), so a filtered view can be shared.
 *
 * The strict Content-Security-Policy allows exactly this script and this style, by hash.
 */
import { createHash } from 'node:crypto';

export interface PageOptions {
  /** Shown as the page's title and heading. */
  readonly title: string;
  /** Seconds between automatic refreshes. */
  readonly refreshSeconds: number;
  /** IAM, IP_ALLOW_LIST, API_KEY or NONE: with API_KEY the page asks for the key and sends it as `x-api-key`. */
  readonly authorization: string;
  /** How long the function keeps what it read, shown on the page. */
  readonly cacheTtlSeconds: number;
  /** Services per request when the page reads the list. */
  readonly pageLimit: number;
}

export interface Page {
  readonly html: string;
  /** The Content-Security-Policy header to serve it with. */
  readonly contentSecurityPolicy: string;
}

const STYLE = String.raw`
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
  --ok-bg: #dafbe1; --ok-fg: #116329; --deg-bg: #fff1c2; --deg-fg: #7a4d00; --down-bg: #ffe2e0; --down-fg: #a40e26;
  --focus: #0969da; --tag-bg: #eef1f4; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --head: #151b23;
    --ok-bg: #12361f; --ok-fg: #6fdd8b; --deg-bg: #3b2e0a; --deg-fg: #f2cc60; --down-bg: #42151b; --down-fg: #ff9492;
    --focus: #4493f8; --tag-bg: #212830; }
}
* { box-sizing: border-box; }
body { margin: 0; padding: 1rem 1.5rem 3rem; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 1.75rem 0 .5rem; }
h2 .count { color: var(--muted); font-weight: normal; font-size: .9rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.summary { display: flex; flex-wrap: wrap; gap: .5rem; margin: 0 0 1rem; padding: 0; list-style: none; }
form { display: flex; flex-wrap: wrap; align-items: end; gap: .75rem 1.25rem; margin: 0 0 1rem; padding: .75rem;
  border: 1px solid var(--line); border-radius: 6px; background: var(--head); }
label { display: block; font-weight: 600; margin-bottom: .2rem; }
.inline label { display: inline; font-weight: normal; }
input[type=search], input[type=password], select { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line);
  border-radius: 4px; background: var(--bg); color: var(--fg); min-width: 16rem; }
select { min-width: 9rem; }
button { font: inherit; cursor: pointer; }
form button { padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.banner { padding: .6rem .8rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid; }
.banner.warn { background: var(--deg-bg); color: var(--deg-fg); border-color: currentColor; }
.banner.error { background: var(--down-bg); color: var(--down-fg); border-color: currentColor; }
table { border-collapse: collapse; width: 100%; margin-bottom: .5rem; table-layout: fixed; }
/* The same column widths in every cluster's table. */
th:nth-child(1) { width: 15%; } th:nth-child(2) { width: 18%; } th:nth-child(3) { width: 7%; } th:nth-child(4) { width: 10%; }
th:nth-child(5) { width: 9%; } th:nth-child(6) { width: 20%; } th:nth-child(7) { width: 21%; }
td, th { overflow-wrap: anywhere; }
caption { text-align: left; }
th, td { text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--head); white-space: nowrap; padding: 0; }
thead th button, thead th span.plain { display: block; width: 100%; text-align: left; padding: .45rem .6rem; border: 0;
  background: none; color: inherit; font-weight: 600; }
tbody th { font-weight: 600; }
.sub { display: block; color: var(--muted); font-weight: normal; font-size: .85rem; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 1rem; font-weight: 700; font-size: .8rem;
  letter-spacing: .02em; white-space: nowrap; border: 1px solid currentColor; }
.badge.OK { background: var(--ok-bg); color: var(--ok-fg); }
.badge.DEGRADED { background: var(--deg-bg); color: var(--deg-fg); }
.badge.DOWN { background: var(--down-bg); color: var(--down-fg); }
tr.DOWN th, tr.DOWN td { background: color-mix(in srgb, var(--down-bg) 45%, transparent); }
tr.DEGRADED th, tr.DEGRADED td { background: color-mix(in srgb, var(--deg-bg) 45%, transparent); }
.tag { display: inline-block; margin: 0 .25rem .2rem 0; padding: 0 .4rem; border-radius: 3px; background: var(--tag-bg);
  font-size: .8rem; white-space: nowrap; }
.tag.inherited { font-style: italic; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.empty { color: var(--muted); }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
[aria-busy=true] .meta::after { content: " (updating…)"; }
`;

const SCRIPT = String.raw`
(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('config').textContent);
  var $ = function (id) { return document.getElementById(id); };
  var base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
  var SYMBOL = { OK: '\u2713', DEGRADED: '\u25B2', DOWN: '\u2715' };
  var HEALTH_ORDER = { DOWN: 0, DEGRADED: 1, OK: 2 };
  var KEY_STORE = 'cdk-ecs-ops-status-api-key';
  var state = { services: [], missing: [], generatedAt: null, sort: { key: 'health', dir: 1 }, timer: 0, loading: false, loaded: false };
  var number = new Intl.NumberFormat();

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) Object.keys(props).forEach(function (k) {
      if (k === 'text') node.textContent = props[k];
      else if (k === 'className') node.className = props[k];
      else node.setAttribute(k, props[k]);
    });
    (children || []).forEach(function (c) { if (c !== null && c !== undefined) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
    return node;
  }

  function ago(date) {
    var s = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (s < 90) return s + ' s ago';
    var m = Math.round(s / 60);
    if (m < 90) return m + ' min ago';
    var h = Math.round(m / 60);
    if (h < 36) return h + ' h ago';
    return Math.round(h / 24) + ' days ago';
  }

  // The key is kept for this browser tab only (sessionStorage), and read from the field when storage is refused.
  function apiKey() {
    var stored = '';
    try { stored = sessionStorage.getItem(KEY_STORE) || ''; } catch (e) { stored = ''; }
    return stored || $('key').value.trim();
  }

  async function explain(response) {
    var detail = '';
    try { var body = await response.json(); detail = body.error || body.message || body.Message || ''; } catch (e) { detail = ''; }
    if (response.status === 403 && config.authorization === 'IAM') {
      return 'HTTP 403: this API takes IAM (SigV4) signed requests, which a browser does not make. Open the page through a signing proxy, '
        + 'or use an API with the ipAllowList or apiKey authorization.';
    }
    if (response.status === 403 && config.authorization === 'API_KEY') return 'HTTP 403: give a valid API key above.';
    if (response.status === 429) return 'HTTP 429: too many requests; the next refresh will try again.';
    return 'HTTP ' + response.status + (detail ? ': ' + detail : '');
  }

  async function load() {
    if (state.loading) return;
    if (config.authorization === 'API_KEY' && !apiKey()) {
      showError('Give the API key to read the services.');
      return;
    }
    state.loading = true;
    document.body.setAttribute('aria-busy', 'true');
    try {
      var services = [], missing = {}, generatedAt = null, token = null, clusters = {};
      do {
        var url = new URL('services', location.origin + base);
        url.searchParams.set('limit', String(config.pageLimit));
        if (token) url.searchParams.set('nextToken', token);
        var headers = { Accept: 'application/json' };
        if (config.authorization === 'API_KEY') headers['x-api-key'] = apiKey();
        var response = await fetch(url, { headers: headers, credentials: 'same-origin', cache: 'no-store' });
        if (!response.ok) throw new Error(await explain(response));
        var page = await response.json();
        Array.prototype.push.apply(services, page.services);
        page.missingClusters.forEach(function (m) { missing[m.cluster] = m.error; });
        page.clusters.forEach(function (c) { clusters[c] = true; });
        var at = new Date(page.generatedAt);
        if (!generatedAt || at < generatedAt) generatedAt = at;
        token = page.nextToken;
      } while (token);
      state.services = services;
      state.clusters = Object.keys(clusters);
      state.missing = Object.keys(missing).map(function (c) { return { cluster: c, error: missing[c] }; });
      state.generatedAt = generatedAt;
      state.loaded = true;
      showError('');
      render();
      announce();
    } catch (error) {
      showError('Could not read the services: ' + (error && error.message ? error.message : String(error)) + (state.loaded ? ' Showing the last data read.' : ''));
    } finally {
      state.loading = false;
      document.body.setAttribute('aria-busy', 'false');
      schedule();
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    if (!$('auto').checked) return;
    state.timer = setTimeout(function () { if (!document.hidden) load(); else state.due = true; }, config.refreshSeconds * 1000);
  }

  function showError(message) {
    $('error').textContent = message;
    $('error').hidden = !message;
  }

  function counts(list) {
    var c = { OK: 0, DEGRADED: 0, DOWN: 0 };
    list.forEach(function (s) { c[s.health.verdict] += 1; });
    return c;
  }

  function announce() {
    var c = counts(state.services);
    $('announce').textContent = 'Updated: ' + number.format(state.services.length) + ' services, ' + c.DEGRADED + ' degraded, ' + c.DOWN + ' down'
      + (state.missing.length ? ', ' + state.missing.length + ' cluster(s) missing' : '') + '.';
  }

  function tagsOf(s) {
    var all = [];
    Object.keys(s.inheritedTags || {}).forEach(function (k) { all.push({ key: k, value: s.inheritedTags[k], inherited: true }); });
    Object.keys(s.tags).forEach(function (k) { all.push({ key: k, value: s.tags[k], inherited: false }); });
    return all;
  }

  // Terms are ANDed; "key=value" matches a tag (any case, part of the value), anything else a name or a tag.
  function matcher(text) {
    var terms = text.toLowerCase().split(/\s+/).filter(Boolean);
    return function (s) {
      var tags = tagsOf(s);
      return terms.every(function (term) {
        var eq = term.indexOf('=');
        if (eq > 0) {
          var key = term.slice(0, eq), value = term.slice(eq + 1);
          return tags.some(function (t) { return t.key.toLowerCase() === key && t.value.toLowerCase().indexOf(value) >= 0; });
        }
        return s.name.toLowerCase().indexOf(term) >= 0 || s.cluster.toLowerCase().indexOf(term) >= 0
          || tags.some(function (t) { return t.key.toLowerCase().indexOf(term) >= 0 || t.value.toLowerCase().indexOf(term) >= 0; });
      });
    };
  }

  var SORTS = {
    name: function (a, b) { return a.name.localeCompare(b.name); },
    health: function (a, b) { return HEALTH_ORDER[a.health.verdict] - HEALTH_ORDER[b.health.verdict] || a.name.localeCompare(b.name); },
    tasks: function (a, b) { return (a.running - a.desired) - (b.running - b.desired) || a.desired - b.desired || a.name.localeCompare(b.name); },
    launch: function (a, b) { return launchText(a).localeCompare(launchText(b)) || a.name.localeCompare(b.name); },
    rollout: function (a, b) { return String(a.rollout.state || '').localeCompare(String(b.rollout.state || '')) || a.name.localeCompare(b.name); },
    event: function (a, b) { return String(b.lastEventAt || '').localeCompare(String(a.lastEventAt || '')) || a.name.localeCompare(b.name); },
  };
  var COLUMNS = [
    { key: 'name', label: 'Service' }, { key: 'health', label: 'Health' }, { key: 'tasks', label: 'Tasks' },
    { key: 'launch', label: 'Runs on' }, { key: 'rollout', label: 'Rollout' }, { key: 'event', label: 'Last event' }, { key: null, label: 'Tags' },
  ];

  function launchText(s) {
    return (s.launchType || '') + ' ' + s.capacityProviders.join(', ');
  }

  function header() {
    var row = el('tr');
    COLUMNS.forEach(function (c) {
      var th = el('th', { scope: 'col' });
      if (!c.key) { th.appendChild(el('span', { className: 'plain', text: c.label })); row.appendChild(th); return; }
      var active = state.sort.key === c.key;
      if (active) th.setAttribute('aria-sort', state.sort.dir > 0 ? 'ascending' : 'descending');
      var button = el('button', { type: 'button', 'data-sort': c.key }, [c.label, el('span', { 'aria-hidden': 'true', text: active ? (state.sort.dir > 0 ? ' \u25B4' : ' \u25BE') : '' })]);
      th.appendChild(button);
      row.appendChild(th);
    });
    return el('thead', null, [row]);
  }

  function row(s) {
    var tr = el('tr', { className: s.health.verdict });
    tr.appendChild(el('th', { scope: 'row' }, [s.name, el('span', { className: 'sub', text: s.taskDefinition || '' })]));
    tr.appendChild(el('td', null, [
      el('span', { className: 'badge ' + s.health.verdict }, [el('span', { 'aria-hidden': 'true', text: SYMBOL[s.health.verdict] + ' ' }), s.health.verdict]),
      el('span', { className: 'sub', text: s.health.reason }),
    ]));
    tr.appendChild(el('td', { className: 'num' }, [
      s.running + ' of ' + s.desired,
      s.pending ? el('span', { className: 'sub', text: s.pending + ' pending' }) : null,
    ]));
    tr.appendChild(el('td', null, [
      s.launchType || '\u2014',
      s.capacityProviders.length ? el('span', { className: 'sub', text: s.capacityProviders.join(', ') }) : null,
      s.status !== 'ACTIVE' ? el('span', { className: 'sub', text: s.status }) : null,
    ]));
    tr.appendChild(el('td', null, [
      s.rollout.state || '\u2014',
      s.failedTasks ? el('span', { className: 'sub', text: s.failedTasks + ' failed task(s)' }) : null,
    ]));
    var event = el('td');
    if (s.lastEventAt) {
      var when = new Date(s.lastEventAt);
      event.appendChild(el('time', { datetime: s.lastEventAt, title: when.toLocaleString(), text: ago(when) }));
      if (s.lastEvent) event.appendChild(el('span', { className: 'sub', title: s.lastEvent, text: s.lastEvent.length > 90 ? s.lastEvent.slice(0, 89) + '\u2026' : s.lastEvent }));
    } else event.textContent = '\u2014';
    tr.appendChild(event);
    var tags = el('td');
    tagsOf(s).forEach(function (t) {
      tags.appendChild(el('span', { className: 'tag' + (t.inherited ? ' inherited' : ''), title: t.inherited ? 'inherited from the cluster' : '', text: t.key + '=' + t.value }));
    });
    tr.appendChild(tags);
    return tr;
  }

  function render() {
    var test = matcher($('filter').value);
    var health = $('health').value;
    var shown = state.services.filter(function (s) { return (!health || s.health.verdict === health) && test(s); });
    var all = counts(state.services);
    var summary = $('summary');
    summary.textContent = '';
    ['DOWN', 'DEGRADED', 'OK'].forEach(function (h) {
      summary.appendChild(el('li', null, [el('span', { className: 'badge ' + h }, [el('span', { 'aria-hidden': 'true', text: SYMBOL[h] + ' ' }), h + ': ' + number.format(all[h])])]));
    });
    summary.appendChild(el('li', { text: 'Showing ' + number.format(shown.length) + ' of ' + number.format(state.services.length) + ' services in ' + state.clusters.length + ' cluster(s)' }));

    var missing = $('missing');
    missing.textContent = '';
    missing.hidden = state.missing.length === 0;
    if (state.missing.length) {
      missing.appendChild(el('strong', { text: 'Partial data: ' + state.missing.length + ' cluster(s) could not be read, and their services are not shown.' }));
      var list = el('ul');
      state.missing.forEach(function (m) { list.appendChild(el('li', { text: m.cluster + ': ' + m.error })); });
      missing.appendChild(list);
    }

    var byCluster = {};
    shown.forEach(function (s) { (byCluster[s.cluster] = byCluster[s.cluster] || []).push(s); });
    var main = $('clusters');
    main.textContent = '';
    var names = Object.keys(byCluster).sort();
    if (names.length === 0) main.appendChild(el('p', { className: 'empty', text: state.services.length ? 'No service matches the filter.' : 'No services.' }));
    var compare = SORTS[state.sort.key];
    names.forEach(function (name) {
      var list = byCluster[name].slice().sort(function (a, b) { return state.sort.dir * compare(a, b); });
      var c = counts(list);
      var id = 'cluster-' + name.replace(/[^A-Za-z0-9_-]/g, '-');
      var section = el('section', { 'aria-labelledby': id });
      section.appendChild(el('h2', { id: id }, [name + ' ', el('span', { className: 'count', text: '(' + list.length + ' service' + (list.length === 1 ? '' : 's')
        + (c.DOWN ? ', ' + c.DOWN + ' down' : '') + (c.DEGRADED ? ', ' + c.DEGRADED + ' degraded' : '') + ')' })]));
      var table = el('table');
      table.appendChild(el('caption', { className: 'visually-hidden', text: 'Services in cluster ' + name + ', sorted by ' + state.sort.key }));
      table.appendChild(header());
      var body = el('tbody');
      list.forEach(function (s) { body.appendChild(row(s)); });
      table.appendChild(body);
      section.appendChild(table);
      main.appendChild(section);
    });
    updateAge();
  }

  function updateAge() {
    if (!state.generatedAt) return;
    var time = $('generated');
    time.setAttribute('datetime', state.generatedAt.toISOString());
    time.textContent = state.generatedAt.toLocaleTimeString() + ' (' + ago(state.generatedAt) + ')';
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    $('filter').value = params.get('q') || '';
    var h = params.get('health') || '';
    $('health').value = ['OK', 'DEGRADED', 'DOWN'].indexOf(h) >= 0 ? h : '';
  }

  function writeHash() {
    var params = new URLSearchParams();
    if ($('filter').value) params.set('q', $('filter').value);
    if ($('health').value) params.set('health', $('health').value);
    var hash = params.toString();
    history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
  }

  function saveKey() {
    try { sessionStorage.setItem(KEY_STORE, $('key').value.trim()); } catch (e) { /* private mode: kept for this page only */ }
  }
  $('controls').addEventListener('submit', function (e) {
    e.preventDefault();
    if (config.authorization === 'API_KEY') saveKey();
    load();
  });
  $('filter').addEventListener('input', function () { writeHash(); if (state.loaded) render(); });
  $('health').addEventListener('change', function () { writeHash(); if (state.loaded) render(); });
  $('auto').addEventListener('change', schedule);
  $('clusters').addEventListener('click', function (e) {
    var button = e.target.closest('button[data-sort]');
    if (!button) return;
    var key = button.getAttribute('data-sort');
    var section = button.closest('section').getAttribute('aria-labelledby');
    state.sort = { key: key, dir: state.sort.key === key ? -state.sort.dir : 1 };
    render();
    // Keep the keyboard where it was: on the same column of the same cluster's table.
    var again = document.querySelector('section[aria-labelledby="' + section + '"] button[data-sort="' + key + '"]');
    if (again) again.focus();
  });
  window.addEventListener('hashchange', function () { readHash(); if (state.loaded) render(); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden && state.due) { state.due = false; load(); } });
  if (config.authorization === 'API_KEY') {
    $('key-box').hidden = false;
    $('key').value = apiKey();
    $('key').addEventListener('change', saveKey);
  }
  $('refresh-every').textContent = String(config.refreshSeconds);
  $('cache-ttl').textContent = String(config.cacheTtlSeconds);
  setInterval(updateAge, 5000);
  readHash();
  load();
})();
`;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** JSON that is safe inside a `<script>` element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** The status page and its Content-Security-Policy. */
export function statusPage(options: PageOptions): Page {
  const title = escapeHtml(options.title);
  const config = scriptJson({
    refreshSeconds: options.refreshSeconds,
    authorization: options.authorization,
    cacheTtlSeconds: options.cacheTtlSeconds,
    pageLimit: options.pageLimit,
  });
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body aria-busy="true">
<header>
<h1>${title}</h1>
<p class="meta">Data read from ECS at <time id="generated">…</time>. The page refreshes every <span id="refresh-every"></span> s;
the API keeps what it read for <span id="cache-ttl"></span> s.</p>
<ul class="summary" id="summary" aria-label="Health of all services"></ul>
</header>
<form id="controls" role="search" aria-label="Filter the services">
<div><label for="filter">Filter by name or tag</label>
<input type="search" id="filter" placeholder="payments  env=prod" autocomplete="off" aria-describedby="filter-help">
<span class="sub" id="filter-help">Words must all match; key=value matches a tag.</span></div>
<div><label for="health">Health</label>
<select id="health"><option value="">All</option><option value="DOWN">DOWN</option><option value="DEGRADED">DEGRADED</option><option value="OK">OK</option></select></div>
<div id="key-box" hidden><label for="key">API key</label><input type="password" id="key" autocomplete="off"></div>
<div class="inline"><input type="checkbox" id="auto" checked> <label for="auto">Refresh automatically</label></div>
<div><button type="submit">Refresh now</button></div>
</form>
<div id="error" class="banner error" role="alert" hidden></div>
<div id="missing" class="banner warn" role="alert" hidden></div>
<div id="announce" class="visually-hidden" aria-live="polite"></div>
<main id="clusters"><p class="empty">Loading…</p></main>
<script type="application/json" id="config">${config}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src 'sha256-${sha256(SCRIPT)}'`,
    `style-src 'sha256-${sha256(STYLE)}'`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}
