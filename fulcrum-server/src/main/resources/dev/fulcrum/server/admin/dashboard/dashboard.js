// Fulcrum dashboard: polls /api/v1/pools, /api/v1/stats and /api/v1/routes every second (and
// /api/v1/cluster once /api/v1/status says this node is in a cluster), /api/v1/status every five,
// and follows /api/v1/events (Server-Sent Events). No library, no network beyond this origin.
'use strict';

const POLL_MS = 1000;
const HISTORY_SECONDS = 300;
const MAX_EVENTS = 200;
const EVENT_TYPES = ['server-added', 'server-removed', 'server-up', 'server-down', 'server-ejected',
  'server-draining', 'server-enabled', 'server-weight-changed', 'scale-out', 'scale-in', 'scale-out-failed',
  'scale-in-failed', 'ha-master', 'ha-backup', 'ha-fault', 'dsr-mac-learned', 'dsr-mac-lost', 'config-reloaded',
  'cluster-member-joined', 'cluster-member-left', 'cluster-etcd-unavailable', 'cluster-etcd-available', 'config-applied'];

const previous = new Map();   // "pool|address" -> {requests, at}: for per-server requests/s
const rates = new Map();      // "pool|address" -> last requests/s
let lastStats = null;         // {requests, at}
let clustered = false;        // this node runs in a cluster (from /api/v1/status): poll /api/v1/cluster too
const samples = [];           // [{at, rps, p99}] oldest first

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function fmtRate(r) {
  if (r === undefined || r === null || Number.isNaN(r)) return '–';
  return r >= 100 ? Math.round(r).toLocaleString() : r.toFixed(1);
}

function fmtMs(seconds) {
  if (seconds === undefined || seconds === null) return '–';
  const ms = seconds * 1000;
  return (ms >= 100 ? Math.round(ms) : ms.toFixed(ms >= 10 ? 1 : 2)) + ' ms';
}

function fmtUptime(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return 'up ' + (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm';
}

// ---- API calls ----

function token() {
  return localStorage.getItem('fulcrum.token') || '';
}

async function getJson(path) {
  const res = await fetch(path, { cache: 'no-store' });
  if (!res.ok) throw new Error(path + ' answered ' + res.status);
  return res.json();
}

// A mutating call; on 401 shows the token field and retries once a token is saved.
async function mutate(method, path, body) {
  const headers = {};
  if (token()) headers['Authorization'] = 'Bearer ' + token();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let answer = null;
  try { answer = await res.json(); } catch (e) { answer = null; }
  if (res.status === 401) {
    $('token-bar').hidden = false;
    $('token-note').textContent = token() ? 'the saved token was refused' : '';
    $('token').focus();
    pendingRetry = () => mutate(method, path, body);
    showMessage('The admin API needs a token for this action.');
    return null;
  }
  if (!res.ok) {
    showMessage((answer && answer.error) || (method + ' ' + path + ' answered ' + res.status));
    return null;
  }
  showMessage('');
  poll();
  return answer;
}

let pendingRetry = null;

function showMessage(text) {
  $('message').textContent = text;
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  localStorage.setItem('fulcrum.token', $('token').value.trim());
  $('token').value = '';
  $('token-bar').hidden = true;
  const retry = pendingRetry;
  pendingRetry = null;
  if (retry) retry();
});

const enc = encodeURIComponent;

// ---- pools ----

// Everything is updated in place: a section per pool, a row per server, created once and then
// only their texts change, so a button being clicked or a form being typed in is never replaced
// under the operator's pointer.
function renderPools(pools, now) {
  const root = $('pools');
  const names = new Set(pools.map((p) => p.name));
  for (const section of [...root.children]) {
    if (!names.has(section.dataset.pool)) section.remove();
  }
  for (const pool of pools) {
    let section = [...root.children].find((s) => s.dataset.pool === pool.name);
    if (!section) {
      section = el('section', { class: 'panel pool', 'data-pool': pool.name },
        el('h2', {}, el('span', { class: 'pool-name' }, pool.name), el('span', { class: 'pool-meta' })),
        emptyTable(pool.name), addForm(pool.name));
      root.append(section);
    }
    setText(section.querySelector('.pool-meta'), pool.algorithm + ' · ' + pool.servers.length + ' servers');
    renderRows(section.querySelector('tbody'), pool, now);
  }
}

function emptyTable(poolName) {
  const head = el('tr', {}, el('th', {}, 'server'), el('th', {}, 'state'), el('th', { class: 'num' }, 'weight'),
    el('th', { class: 'num' }, 'req/s'), el('th', { class: 'num' }, 'active'), el('th', { class: 'num' }, 'requests'),
    el('th', { class: 'num' }, 'failures'), el('th', {}, 'last check'), el('th', {}, ''));
  return el('table', { 'data-pool': poolName }, el('thead', {}, head), el('tbody', {}));
}

function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

function newRow(poolName, address) {
  const row = el('tr', { 'data-address': address },
    el('td', { class: 'address' }, address),
    el('td', {}, el('span', { class: 'state' })),
    el('td', { class: 'num weight' }), el('td', { class: 'num rate' }), el('td', { class: 'num active' }),
    el('td', { class: 'num requests' }), el('td', { class: 'num failures' }), el('td', { class: 'check' }),
    el('td', {}, el('button', {
      onclick: () => mutate('POST', '/api/v1/pools/' + enc(poolName) + '/servers/' + enc(address)
        + (row.dataset.state === 'draining' ? '/enable' : '/drain')),
    })));
  return row;
}

function renderRows(tbody, pool, now) {
  const rows = new Map([...tbody.children].map((r) => [r.dataset.address, r]));
  const wanted = new Set(pool.servers.map((s) => s.address));
  for (const [address, row] of rows) {
    if (!wanted.has(address)) row.remove();
  }
  pool.servers.forEach((s, i) => {
    const key = pool.name + '|' + s.address;
    const before = previous.get(key);
    if (before && now > before.at) {
      rates.set(key, Math.max(0, (s.requests - before.requests) * 1000 / (now - before.at)));
    }
    previous.set(key, { requests: s.requests, at: now });
    let row = rows.get(s.address);
    if (!row) row = newRow(pool.name, s.address);
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
    row.dataset.state = s.state;
    const state = row.querySelector('.state');
    state.className = 'state state-' + s.state;
    setText(state, s.state);
    setText(row.querySelector('.weight'), s.weight);
    setText(row.querySelector('.rate'), fmtRate(rates.get(key)));
    setText(row.querySelector('.active'), s.activeRequests);
    setText(row.querySelector('.requests'), s.requests.toLocaleString());
    setText(row.querySelector('.failures'), s.failures.toLocaleString());
    const check = row.querySelector('.check');
    setText(check, s.lastCheck ? (s.lastCheck.ok ? '✓ ' : '✗ ') + s.lastCheck.detail : '–');
    check.title = s.lastCheck ? s.lastCheck.at : '';
    setText(row.querySelector('button'), s.state === 'draining' ? 'Enable' : 'Drain');
  });
}

function addForm(poolName) {
  const form = el('form', { class: 'add', 'data-pool': poolName },
    el('input', { name: 'address', placeholder: '127.0.0.1:9104', required: '', 'aria-label': 'address' }),
    el('input', { name: 'weight', type: 'number', min: '0', max: '256', value: '1', 'aria-label': 'weight' }),
    el('button', { type: 'submit' }, 'Add server'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const address = form.elements.address.value.trim();
    const weight = parseInt(form.elements.weight.value, 10);
    const done = await mutate('POST', '/api/v1/pools/' + enc(poolName) + '/servers', { address, weight });
    if (done) form.elements.address.value = '';
  });
  return form;
}

function renderTotals(pools) {
  let up = 0, all = 0, active = 0;
  for (const p of pools) {
    for (const s of p.servers) {
      all++;
      if (s.state === 'up') up++;
      active += s.activeRequests;
    }
  }
  $('total-up').textContent = up + ' / ' + all;
  $('total-active').textContent = active;
}

// ---- stats and chart ----

function addStats(stats, now) {
  let rps = null;
  if (lastStats && now > lastStats.at) {
    rps = Math.max(0, (stats.requests - lastStats.requests) * 1000 / (now - lastStats.at));
  }
  lastStats = { requests: stats.requests, at: now };
  $('total-rps').textContent = fmtRate(rps);
  $('total-p99').textContent = fmtMs(stats.p99Seconds);
  if (rps !== null) samples.push({ at: now, rps, p99: stats.p99Seconds === null ? null : stats.p99Seconds * 1000 });
  while (samples.length && samples[0].at < now - HISTORY_SECONDS * 1000) samples.shift();
  drawChart(now);
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function drawChart(now) {
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth, height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  const css = getComputedStyle(document.documentElement);
  const left = 64, right = 70, top = 10, bottom = 28;
  const w = width - left - right, h = height - top - bottom;
  const rpsMax = niceMax(Math.max(1, ...samples.map((p) => p.rps)));
  const p99Max = niceMax(Math.max(1, ...samples.map((p) => p.p99 || 0)));
  g.font = '14px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + h - h * i / 4;
    g.strokeStyle = css.getPropertyValue('--line');
    g.beginPath(); g.moveTo(left, y); g.lineTo(left + w, y); g.stroke();
    g.fillStyle = css.getPropertyValue('--rps');
    g.textAlign = 'right';
    g.fillText(fmtRate(rpsMax * i / 4), left - 8, y + 5);
    g.fillStyle = css.getPropertyValue('--p99');
    g.textAlign = 'left';
    g.fillText(+(p99Max * i / 4).toPrecision(3) + ' ms', left + w + 8, y + 5);
  }
  g.fillStyle = css.getPropertyValue('--muted');
  g.textAlign = 'center';
  for (let m = 0; m <= 5; m++) {
    const x = left + w - w * m / 5;
    g.fillText(m === 0 ? 'now' : '-' + m + ' min', x, top + h + 20);
  }
  const xOf = (at) => left + w - w * (now - at) / (HISTORY_SECONDS * 1000);
  const line = (value, max, colour) => {
    g.strokeStyle = colour;
    g.lineWidth = 2.5;
    g.beginPath();
    let drawing = false;
    for (const p of samples) {
      const v = value(p);
      if (v === null || v === undefined) { drawing = false; continue; }
      const x = xOf(p.at), y = top + h - h * Math.min(v, max) / max;
      if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
      drawing = true;
    }
    g.stroke();
  };
  line((p) => p.rps, rpsMax, css.getPropertyValue('--rps'));
  line((p) => p.p99, p99Max, css.getPropertyValue('--p99'));
}

// ---- routes ----

function destination(r) {
  if (r.pool !== null) return r.pool;
  if (r.pools !== null) return r.pools.map((w) => w.pool + ' ' + w.weight).join(' · ');
  return r.redirect.status + ' → ' + r.redirect.location;
}

// A row per route, kept by listener and name and updated in place like the servers' rows; a
// reload's routes replace the rows of the ones it dropped.
function renderRoutes(routes) {
  const tbody = $('routes').querySelector('tbody');
  const rows = new Map([...tbody.children].map((r) => [r.dataset.route, r]));
  const wanted = new Set(routes.map((r) => r.listener + '|' + r.name));
  for (const [key, row] of rows) {
    if (!wanted.has(key)) row.remove();
  }
  routes.forEach((r, i) => {
    const key = r.listener + '|' + r.name;
    let row = rows.get(key);
    if (!row) {
      row = el('tr', { 'data-route': key }, el('td', {}, r.listener), el('td', { class: 'route-name' }, r.name),
        el('td', { class: 'destination' }), el('td', { class: 'num requests' }), el('td', { class: 'num c4xx' }),
        el('td', { class: 'num c5xx' }));
    }
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
    setText(row.querySelector('.destination'), destination(r));
    setText(row.querySelector('.requests'), r.requests.toLocaleString());
    setText(row.querySelector('.c4xx'), r.byStatus['4xx'].toLocaleString());
    setText(row.querySelector('.c5xx'), r.byStatus['5xx'].toLocaleString());
  });
}

// ---- listeners: protocols and TLS certificates ----

// "names · serial · RSA 2048 · until 2027-03-01 (85 days)"; a certificate inside the expiry
// alert's 14 days (the API's "expiring") gets the class "expiring" and a warning colour.
function certificateLine(c) {
  const days = c.daysLeft < 0 ? 'expired' : c.daysLeft + (c.daysLeft === 1 ? ' day' : ' days') + ' left';
  return el('div', { class: 'certificate' + (c.expiring ? ' expiring' : ''), 'data-serial': c.serial },
    el('span', { class: 'cert-names' }, c.names.join(', ')),
    el('span', { class: 'muted' }, ' · serial ' + c.serial + ' · ' + c.keyType + ' ' + c.keyBits + ' · until '
      + c.notAfter.slice(0, 10) + ' · '),
    el('span', { class: 'days-left' }, days));
}

// Rebuilt whole at each status poll: a handful of listeners, and a reload may change any of them.
function renderListeners(listeners) {
  const rows = (listeners || []).map((l) => {
    const protocols = l.protocol + (l.protocols.length ? ' · ' + l.protocols.join(', ') : '');
    const tls = !l.tls ? el('td', { class: 'tls muted' }, 'none')
      : el('td', { class: 'tls' },
        el('div', { class: 'muted' }, l.tls.provider + ' · from ' + l.tls.minVersion
          + (l.tls.sniStrict ? ' · sni-strict' : '') + (l.tls.clientCertificates ? ' · client certificates' : '')),
        ...l.tls.certificates.map(certificateLine));
    return el('tr', { 'data-listener': l.name }, el('td', {}, l.name), el('td', { class: 'address' }, l.listen),
      el('td', { class: 'protocols' }, protocols), tls);
  });
  $('listeners').querySelector('tbody').replaceChildren(...rows);
}

// ---- status: auto-scaling, HA, DSR ----

function kv(pairs) {
  return el('div', { class: 'kv' }, ...pairs.flatMap(([k, v]) => [el('span', { class: 'k' }, k), el('span', {}, v)]));
}

function renderStatus(status) {
  $('instance').textContent = status.name;
  $('version').textContent = 'v' + status.version;
  $('uptime').textContent = fmtUptime(status.uptimeSeconds);
  document.title = 'Fulcrum · ' + status.name;
  renderListeners(status.listeners);
  clustered = !!status.cluster;
  if (clustered) renderCluster(status.cluster);
  else $('cluster-panel').hidden = true;
  const auto = $('autoscale');
  if (!status.autoscale) {
    auto.className = 'muted';
    auto.replaceChildren('not configured');
  } else {
    auto.className = '';
    auto.replaceChildren(...status.autoscale.map((a) => kv([
      ['pool', a.pool],
      ['servers', a.servers + '  (min ' + a.minServers + ', max ' + a.maxServers + ')'],
      [a.metric, (a.value === null ? '–' : a.value.toFixed(2)) + '  (in below ' + a.scaleInBelow + ', out above ' + a.scaleOutAbove + ')'],
      ['last action', a.lastAction || 'none yet'],
    ])));
  }
  const ha = $('ha');
  if (!status.ha) {
    ha.className = 'muted';
    ha.replaceChildren('not configured');
  } else {
    ha.className = '';
    ha.replaceChildren(kv([
      ['state', status.ha.state],
      ['virtual router', status.ha.virtualRouterId + ' on ' + status.ha.networkInterface],
      ['priority', status.ha.priority],
      ['virtual IPs', status.ha.virtualIps.join(', ')],
    ]));
  }
  const dsr = $('dsr');
  if (!status.dsr) {
    dsr.className = 'muted';
    dsr.replaceChildren('not configured');
  } else {
    const d = status.dsr;
    dsr.className = '';
    dsr.replaceChildren(kv([
      ['virtual IP', d.virtualIp + ' ports ' + d.ports.join(', ') + ' on ' + d.networkInterface],
      ['pool', d.pool + '  (' + d.forwarders + ' forwarder threads)'],
      ['packets', d.forwarded + ' forwarded, ' + d.dropped + ' dropped'],
      ...d.servers.map((t) => [t.server, (t.mac || 'MAC unknown') + (t.newFlows ? '' : '  (no new flows)')]),
    ]));
  }
}

// ---- cluster ----

// Shown only for a node with a cluster section (status.cluster not null; the section cannot come
// or go without a restart). The summary is rebuilt at each poll; a row per member, kept by name
// and updated in place like the servers' rows.
function renderCluster(c) {
  $('cluster-panel').hidden = false;
  const etcd = el('span', { class: 'state etcd state-' + (c.etcd === 'up' ? 'up' : 'down') }, c.etcd);
  $('cluster').replaceChildren(kv([
    ['this node', c.node],
    ['etcd', etcd],
    ['applied revision', c.revision],
    ['auto-scaling leader', c.leader || 'none yet'],
    ['members', c.members.length],
  ]));
  const tbody = $('cluster-members').querySelector('tbody');
  const rows = new Map([...tbody.children].map((r) => [r.dataset.node, r]));
  const wanted = new Set(c.members.map((m) => m.node));
  for (const [name, row] of rows) {
    if (!wanted.has(name)) row.remove();
  }
  c.members.forEach((m, i) => {
    let row = rows.get(m.node);
    if (!row) {
      row = el('tr', { 'data-node': m.node }, el('td', { class: 'member-name' }), el('td', { class: 'address' }, m.address),
        el('td', { class: 'num applied' }), el('td', { class: 'renewal' }));
    }
    if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
    const marks = [m.node === c.node ? 'this node' : null, m.node === c.leader ? 'leader' : null].filter((x) => x);
    setText(row.querySelector('.member-name'), m.node + (marks.length ? ' (' + marks.join(', ') + ')' : ''));
    row.classList.toggle('leader', m.node === c.leader);
    setText(row.querySelector('.address'), m.address);
    setText(row.querySelector('.applied'), m.appliedRevision);
    const renewal = row.querySelector('.renewal');
    setText(renewal, new Date(m.lastRenewal).toLocaleTimeString([], { hour12: false }));
    renewal.title = m.lastRenewal;
  });
}

// ---- events ----

function addEvent(e) {
  const at = new Date(e.at);
  const item = el('li', {},
    el('span', { class: 'when' }, at.toLocaleTimeString([], { hour12: false })),
    el('span', { class: 'type type-' + e.type }, e.type),
    (e.pool ? e.pool : '') + (e.server ? ' ' + e.server : ''),
    el('span', { class: 'detail' }, e.detail || ''));
  const list = $('events');
  list.prepend(item);
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

function follow() {
  const source = new EventSource('/api/v1/events');
  source.onopen = () => { $('live').className = 'live on'; $('live').textContent = 'live'; };
  source.onerror = () => { $('live').className = 'live off'; $('live').textContent = 'reconnecting'; };
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      addEvent(JSON.parse(message.data));
      poll();
    });
  }
  // a reconnect replays recent events: start the feed afresh
  source.addEventListener('open', () => $('events').replaceChildren());
}

// ---- loop ----

let polling = false;

async function poll() {
  if (polling) return;
  polling = true;
  try {
    const [pools, stats, routes] = await Promise.all([getJson('/api/v1/pools'), getJson('/api/v1/stats'),
      getJson('/api/v1/routes')]);
    const now = Date.parse(stats.at); // the server's clock, as the history's points use
    renderPools(pools, now);
    renderTotals(pools);
    renderRoutes(routes);
    addStats(stats, now);
    if (clustered) renderCluster(await getJson('/api/v1/cluster'));
    if ($('message').textContent.startsWith('Cannot reach')) showMessage('');
  } catch (e) {
    showMessage('Cannot reach the admin API: ' + e.message);
  } finally {
    polling = false;
  }
}

async function pollStatus() {
  try {
    renderStatus(await getJson('/api/v1/status'));
  } catch (e) {
    showMessage('Cannot reach the admin API: ' + e.message);
  }
}

// The chart starts from the server's last five minutes, then grows from the polls.
async function loadHistory() {
  try {
    const points = await getJson('/api/v1/stats/history');
    const first = samples.length ? samples[0].at : Infinity;
    const older = points.filter((p) => p.at < first)
      .map((p) => ({ at: p.at, rps: p.requestsPerSecond, p99: p.p99Seconds === null ? null : p.p99Seconds * 1000 }));
    samples.unshift(...older);
    if (samples.length) drawChart(samples[samples.length - 1].at);
  } catch (e) {
    showMessage('Cannot reach the admin API: ' + e.message);
  }
}

loadHistory();
poll();
pollStatus();
follow();
setInterval(poll, POLL_MS);
setInterval(pollStatus, 5000);
window.addEventListener('resize', () => drawChart(samples.length ? samples[samples.length - 1].at : Date.now()));
