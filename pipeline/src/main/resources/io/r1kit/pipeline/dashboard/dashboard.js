// r1kit dashboard: the page of `r1kit dashboard` (data from the server's /api/, polled while runs
// write) and of report.html (data embedded in window.R1KIT_DATA, no network). Charts are uPlot.
'use strict';
(function () {
  const EMBEDDED = window.R1KIT_DATA || null;
  const POLL_MS = 2000, SUMMARY_MS = 5000, RUNS_MS = 10000;
  const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const NOT_METRICS = new Set(['step', 'stage', 'wall_time']);

  // ------------------------------------------------------------------ data source
  const api = EMBEDDED ? {
    runs: async () => EMBEDDED.runs,
    run: async (id) => EMBEDDED.summaries[id],
    metrics: async (id) => ({ gen: 0, reset: true, from: 0, rows: EMBEDDED.metrics[id] || [] }),
    samples: async (id, stage, step) => ((EMBEDDED.samples[id] || {})[stage] || {})[step] || null,
  } : {
    runs: () => getJson('api/runs'),
    run: (id) => getJson('api/run?id=' + encodeURIComponent(id)),
    metrics: (id, from, gen) => getJson('api/metrics?id=' + encodeURIComponent(id) + '&from=' + from + '&gen=' + gen),
    samples: (id, stage, step) => getJson('api/samples?id=' + encodeURIComponent(id) + '&stage=' + encodeURIComponent(stage)
      + '&step=' + step),
  };

  async function getJson(url) {
    const r = await fetch(url, { cache: 'no-store' });
    if (!r.ok) throw new Error(url + ': ' + r.status + ' ' + (await r.text()));
    return r.json();
  }

  // ------------------------------------------------------------------ state
  const state = {
    runList: { runs: [], ablations: [] },
    selected: [],            // run ids, in selection order
    runs: {},                // id -> { rows: [], gen, summary }
    tab: 'charts', stage: null, smoothing: 0.6, xaxis: 'step', log: false, filter: '', runFilter: '', groupSeeds: true,
    samples: { run: null, stage: null, step: null, filter: 'all' },
  };
  const charts = [];         // { key, u, sig, zoomed }
  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function runInfo(id) { return state.runList.runs.find(r => r.id === id) || { id, name: id }; }
  function runLabel(id) {
    const r = runInfo(id);
    return r.id === '.' ? (state.runList.root || r.name) : r.id;
  }
  /** A value for people: 4 significant digits (5 in chart legends), exponents for the very small and large. */
  function fmt(v, digits) {
    if (v === null || v === undefined || Number.isNaN(v)) return '–';
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(Math.max(1, (digits || 4) - 2));
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(digits || 4)));
  }

  /** Axis tick labels with as many decimals as the tick spacing needs (so close values stay apart). */
  function ticks(u, splits) {
    const d = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 1;
    const big = Math.max(...splits.map(Math.abs));
    if (big >= 1e6 || (big > 0 && big < 1e-3)) return splits.map(v => (v === 0 ? '0' : v.toExponential(1)));
    let dec = 0;
    while (dec < 8 && splits.some(v => Math.abs(Number(v.toFixed(dec)) - v) > (d || 1) * 1e-6)) dec++;
    return splits.map(v => v.toFixed(dec));
  }

  // ------------------------------------------------------------------ url hash (shareable view)
  function readHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.get('runs')) state.selected = h.get('runs').split(',').filter(Boolean);
    if (h.get('tab')) state.tab = h.get('tab');
    if (h.get('stage')) state.stage = h.get('stage');
    if (h.get('x')) state.xaxis = h.get('x');
    if (h.get('smoothing')) state.smoothing = Number(h.get('smoothing'));
    if (h.get('log')) state.log = h.get('log') === '1';
  }
  function writeHash() {
    const h = new URLSearchParams();
    if (state.selected.length) h.set('runs', state.selected.join(','));
    h.set('tab', state.tab);
    if (state.stage) h.set('stage', state.stage);
    h.set('x', state.xaxis);
    h.set('smoothing', String(state.smoothing));
    if (state.log) h.set('log', '1');
    history.replaceState(null, '', '#' + h.toString());
  }

  // ------------------------------------------------------------------ loading
  async function loadRuns() {
    state.runList = await api.runs();
    renderRunList();
  }

  async function loadRun(id, summaryToo) {
    let r = state.runs[id];
    if (!r) r = state.runs[id] = { rows: [], gen: -1, summary: null };
    const m = await api.metrics(id, r.rows.length, r.gen);
    let changed = false;
    if (m.reset) { r.rows = []; changed = true; }
    if (m.rows.length) { r.rows.push(...m.rows); changed = true; }
    r.gen = m.gen;
    if (summaryToo || !r.summary) r.summary = await api.run(id);
    return changed;
  }

  async function refreshSelected(summaryToo) {
    let changed = false;
    for (const id of state.selected) {
      try { changed = (await loadRun(id, summaryToo)) || changed; } catch (e) { showError(e); }
    }
    return changed;
  }

  function showError(e) {
    $('live').textContent = String(e.message || e);
    $('live').className = 'error';
  }

  // ------------------------------------------------------------------ sidebar
  function renderRunList() {
    const list = $('run-list');
    list.textContent = '';
    $('root-name').textContent = state.runList.root || '';
    const f = state.runFilter.toLowerCase();
    const inAbl = new Set(state.runList.ablations.flatMap(a => a.runs));
    const runItem = (r, label) => {
      if (f && !r.id.toLowerCase().includes(f)) return null;
      const i = state.selected.indexOf(r.id);
      const box = el('input', { type: 'checkbox', 'data-run': r.id });
      box.checked = i >= 0;
      box.addEventListener('change', () => toggleRun(r.id, box.checked));
      const swatch = el('span', { class: 'swatch' });
      if (i >= 0) swatch.style.background = colorOf(r.id);
      return el('label', { class: 'run' }, box, swatch, label);
    };
    for (const a of state.runList.ablations) {
      const box = el('input', { type: 'checkbox', 'data-ablation': a.id });
      box.checked = a.runs.length > 0 && a.runs.every(id => state.selected.includes(id));
      box.addEventListener('change', () => toggleRuns(a.runs, box.checked));
      const items = a.runs.map(id => runItem(runInfo(id), (runInfo(id).variant || '') + (runInfo(id).seed !== undefined ? ' · seed ' + runInfo(id).seed : '')));
      list.append(el('div', { class: 'ablation' }, el('label', { class: 'abl-head', title: a.id }, box, el('b', {}, a.name),
        el('span', { class: 'muted' }, 'ablation')), items));
    }
    for (const r of state.runList.runs) if (!inAbl.has(r.id)) {
      const item = runItem(r, runLabel(r.id));
      if (item) list.append(item);
    }
    if (!state.runList.runs.length) list.append(el('p', { class: 'muted' }, 'no runs yet'));
  }

  function colorOf(id) {
    const key = groupKey(id);
    const keys = [];
    for (const s of state.selected) { const k = groupKey(s); if (!keys.includes(k)) keys.push(k); }
    return PALETTE[Math.max(0, keys.indexOf(key)) % PALETTE.length];
  }

  function groupKey(id) {
    const r = runInfo(id);
    return state.groupSeeds && r.ablation && r.seed !== undefined ? r.ablation + '/' + r.variant : id;
  }

  async function toggleRun(id, on) { await toggleRuns([id], on); }
  async function toggleRuns(ids, on) {
    for (const id of ids) {
      const i = state.selected.indexOf(id);
      if (on && i < 0) state.selected.push(id);
      if (!on && i >= 0) state.selected.splice(i, 1);
    }
    renderRunList();
    await refreshSelected(false);
    renderAll();
  }

  // ------------------------------------------------------------------ charts
  function stagesOfSelection() {
    const out = [];
    for (const id of state.selected) for (const row of (state.runs[id] || { rows: [] }).rows) {
      const s = row.stage || '';
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  function metricKeys(stage) {
    const keys = [];
    const seen = new Set();
    for (const id of state.selected) for (const row of (state.runs[id] || { rows: [] }).rows) {
      if ((row.stage || '') !== stage) continue;
      for (const [k, v] of Object.entries(row)) {
        if (NOT_METRICS.has(k) || seen.has(k) || typeof v !== 'number') continue;
        seen.add(k);
        keys.push(k);
      }
    }
    let re = null;
    try { re = state.filter ? new RegExp(state.filter, 'i') : null; } catch (e) { re = null; }
    const section = (k) => (k.includes('/') ? k.slice(0, k.indexOf('/')) : '');
    const order = [];
    for (const k of keys) if (!order.includes(section(k))) order.push(section(k));
    return keys.filter(k => !re || re.test(k)).sort((a, b) => order.indexOf(section(a)) - order.indexOf(section(b)));
  }

  /** TensorBoard's debiased exponential moving average; nulls stay null. */
  function ema(ys, w) {
    if (!w) return ys.slice();
    let last = 0, debias = 0;
    return ys.map(y => {
      if (y === null || !Number.isFinite(y)) return null;
      last = last * w + (1 - w) * y;
      debias = debias * w + (1 - w);
      return last / debias;
    });
  }

  /** One run's (x, y) of a metric in a stage, in the current x-axis unit. */
  function seriesOf(id, stage, key) {
    const rows = (state.runs[id] || { rows: [] }).rows.filter(r => (r.stage || '') === stage);
    let t0 = null;
    for (const r of rows) if (typeof r.wall_time === 'number') { t0 = r.wall_time; break; }
    const xs = [], ys = [], steps = [];
    for (const r of rows) {
      const v = r[key];
      if (typeof v !== 'number' || typeof r.step !== 'number') continue;
      let x = r.step;
      if (state.xaxis !== 'step') {
        if (typeof r.wall_time !== 'number') continue;
        x = state.xaxis === 'wall' ? r.wall_time : r.wall_time - t0;
      }
      xs.push(x); ys.push(v); steps.push(r.step);
    }
    return { xs, ys, steps };
  }

  /** The lines of a chart: one per run, or per variant with the seeds' mean and ± std band. */
  function linesOf(stage, key) {
    const groups = new Map();
    for (const id of state.selected) {
      const k = groupKey(id);
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(id);
    }
    const lines = [];
    for (const [k, ids] of groups) {
      const color = colorOf(ids[0]);
      if (ids.length === 1) {
        const s = seriesOf(ids[0], stage, key);
        if (s.xs.length) lines.push({ label: runLabel(ids[0]), color, xs: s.xs, raw: s.ys, smooth: ema(s.ys, state.smoothing), steps: s.steps, run: ids[0] });
        continue;
      }
      // seeds: smooth each, then mean and std at each step all seeds share
      const per = ids.map(id => { const s = seriesOf(id, stage, key); return { s, sm: ema(s.ys, state.smoothing) }; });
      const byStep = new Map();
      per.forEach((p, j) => p.s.steps.forEach((st, i) => {
        if (!byStep.has(st)) byStep.set(st, []);
        byStep.get(st).push({ x: p.s.xs[i], y: p.sm[i], raw: p.s.ys[i], j });
      }));
      const steps = [...byStep.keys()].filter(st => byStep.get(st).length === per.length).sort((a, b) => a - b);
      if (!steps.length) continue;
      const xs = [], mean = [], lo = [], hi = [], rawMean = [];
      for (const st of steps) {
        const v = byStep.get(st);
        const m = v.reduce((a, b) => a + b.y, 0) / v.length;
        const sd = Math.sqrt(v.reduce((a, b) => a + (b.y - m) ** 2, 0) / Math.max(1, v.length - 1));
        xs.push(v.reduce((a, b) => a + b.x, 0) / v.length);
        mean.push(m); lo.push(m - sd); hi.push(m + sd);
        rawMean.push(v.reduce((a, b) => a + b.raw, 0) / v.length);
      }
      const r = runInfo(ids[0]);
      const abl = state.runList.ablations.find(a => a.id === r.ablation);
      lines.push({ label: (abl ? abl.name : r.ablation) + ' · ' + r.variant + ' (' + ids.length + ' seeds)', color, xs, raw: rawMean, smooth: mean, lo, hi,
        steps, run: ids[0] });
    }
    return lines;
  }

  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  /** uPlot's aligned data and series options for a chart's lines. */
  function chartData(lines) {
    const tables = [], series = [{}], bands = [], hidden = [];
    const pos = (v) => (state.log && !(v > 0) ? null : v);
    let col = 1;
    for (const l of lines) {
      const cols = [l.xs];
      const smoothing = state.smoothing > 0;
      if (l.lo) {
        cols.push(l.hi.map(pos), l.lo.map(pos));
        series.push({ label: l.label + ' +σ', stroke: alpha(l.color, 0.25), width: 0.5, points: { show: false } });
        series.push({ label: l.label + ' −σ', stroke: alpha(l.color, 0.25), width: 0.5, points: { show: false } });
        bands.push({ series: [col, col + 1], fill: alpha(l.color, 0.15) });
        hidden.push(col, col + 1);
        col += 2;
      }
      if (smoothing) {
        cols.push(l.raw.map(pos));
        series.push({ label: l.label + ' (raw)', stroke: alpha(l.color, 0.25), width: 1, points: { show: false } });
        hidden.push(col);
        col++;
      }
      cols.push(l.smooth.map(pos));
      series.push({ label: l.label, stroke: l.color, width: 2, points: { show: l.xs.length < 3 } });
      col++;
      tables.push(cols);
    }
    const data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    return { data, series, bands, hidden };
  }

  function renderCharts() {
    const view = $('view-charts');
    const stages = stagesOfSelection();
    const sel = $('stage');
    if (!stages.includes(state.stage)) state.stage = stages.length ? stages[stages.length - 1] : null;
    sel.textContent = '';
    for (const s of stages) sel.append(el('option', { value: s }, s || '(no stage)'));
    if (state.stage !== null) sel.value = state.stage;
    if (!state.selected.length) {
      destroyCharts();
      view.textContent = '';
      view.append(el('p', { class: 'empty' }, 'Pick one or more runs on the left.'));
      return;
    }
    const keys = state.stage === null ? [] : metricKeys(state.stage);
    const sig = JSON.stringify([state.selected, state.stage, keys, state.smoothing > 0, state.xaxis, state.log, state.groupSeeds,
      view.clientWidth > 0 ? Math.floor(view.clientWidth / 100) : 0]);
    if (view.dataset.sig === sig && charts.length === keys.length) {
      for (const c of charts) {
        const { data } = chartData(linesOf(state.stage, c.key));
        if (data[0].length) c.u.setData(data, !c.zoomed);
      }
      return;
    }
    destroyCharts();
    view.textContent = '';
    view.dataset.sig = sig;
    if (!keys.length) {
      view.append(el('p', { class: 'empty' }, state.stage === null ? 'No metrics yet.' : 'No metric matches the filter.'));
      return;
    }
    const width = Math.max(320, Math.floor((view.clientWidth - 24) / Math.max(1, Math.floor(view.clientWidth / 480))) - 16);
    let section = null;
    let grid = null;
    for (const key of keys) {
      const sec = key.includes('/') ? key.slice(0, key.indexOf('/')) : 'main';
      if (sec !== section) {
        section = sec;
        grid = el('div', { class: 'grid' });
        view.append(el('h3', { class: 'section' }, sec), grid);
      }
      const box = el('div', { class: 'chart', 'data-key': key });
      grid.append(box);
      const lines = linesOf(state.stage, key);
      const { data, series, bands, hidden } = chartData(lines);
      const entry = { key, u: null, zoomed: false, lines };
      const opts = {
        title: key, width, height: 230,
        scales: {
          x: { time: state.xaxis === 'wall' },
          y: state.log ? { distr: 3 } : {
            range: (u, min, max) => (min === max ? [min - (Math.abs(min) * 0.1 || 1), max + (Math.abs(max) * 0.1 || 1)]
              : uPlot.rangeNum(min, max, 0.1, true)),
          },
        },
        axes: [{ label: state.xaxis === 'step' ? 'step' : state.xaxis === 'relative' ? 'seconds' : '', size: 40 },
          state.log ? { size: 60 } : { size: 60, values: ticks }],
        series: series.map((s, i) => i === 0 ? { label: state.xaxis === 'step' ? 'step' : state.xaxis === 'relative' ? 's' : 'time' }
          : Object.assign({ spanGaps: true, value: (u, v) => fmt(v, 5) }, s)),
        bands,
        cursor: { sync: { key: 'r1kit' }, drag: { x: true, y: false } },
        legend: { live: true },
        hooks: {
          setSelect: [u => { if (u.select.width > 0) entry.zoomed = true; }],
          ready: [u => {
            const rows = u.root.querySelectorAll('.u-legend .u-series');
            for (const i of hidden) if (rows[i]) rows[i].style.display = 'none';
            u.over.addEventListener('dblclick', () => { entry.zoomed = false; });
            let down = null;
            u.over.addEventListener('mousedown', e => { down = [e.clientX, e.clientY]; });
            u.over.addEventListener('mouseup', e => {
              if (!down || Math.abs(e.clientX - down[0]) > 3 || u.cursor.idx === null || u.cursor.idx === undefined) return;
              openSamplesAt(entry, u.data[0][u.cursor.idx]);
            });
          }],
        },
      };
      entry.u = new uPlot(opts, data, box);
      charts.push(entry);
    }
  }

  function destroyCharts() {
    while (charts.length) charts.pop().u.destroy();
    $('view-charts').dataset.sig = '';
  }

  /** A click on a chart: the samples of the clicked run at the logged step nearest the clicked x. */
  function openSamplesAt(entry, x) {
    let best = null;
    for (const l of entry.lines) {
      for (let i = 0; i < l.xs.length; i++) {
        const d = Math.abs(l.xs[i] - x);
        if (best === null || d < best.d) best = { d, run: l.run, step: l.steps[i] };
      }
    }
    if (!best) return;
    const summary = (state.runs[best.run] || {}).summary;
    const steps = summary && summary.samples[state.stage];
    if (!steps || !steps.length) return;
    let step = steps[0];
    for (const s of steps) if (Math.abs(s - best.step) < Math.abs(step - best.step)) step = s;
    state.samples = Object.assign(state.samples, { run: best.run, stage: state.stage, step });
    setTab('samples');
  }

  // ------------------------------------------------------------------ samples
  function splitCompletion(text) {
    // think and answer parts, by the R1 tags; a completion that starts inside <think> (a prefilled
    // "<think>\n" in the prompt) has a closing tag first
    const parts = [];
    const re = /<think>|<\/think>|<answer>|<\/answer>/g;
    let mode = /^[\s\S]*?<\/think>/.test(text) && !/^[\s\S]*?<think>[\s\S]*?<\/think>/.test(text) ? 'think' : 'other';
    let last = 0, m;
    while ((m = re.exec(text)) !== null) {
      if (m.index > last) parts.push({ kind: mode, text: text.slice(last, m.index) });
      parts.push({ kind: 'tag', text: m[0] });
      mode = m[0] === '<think>' ? 'think' : m[0] === '<answer>' ? 'answer' : 'other';
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push({ kind: mode, text: text.slice(last) });
    return parts;
  }

  function matchesFilter(s, f) {
    if (f === 'correct') return s.correct === true;
    if (f === 'wrong') return s.correct === false;
    if (f === 'truncated') return s.finish_reason === 'length';
    return true;
  }

  async function renderSamples() {
    const runs = state.selected.filter(id => state.runs[id] && state.runs[id].summary
      && Object.keys(state.runs[id].summary.samples || {}).length);
    const sr = $('s-run'), ss = $('s-stage'), sp = $('s-step');
    const box = $('samples');
    fill(sr, runs.map(id => [id, runLabel(id)]));
    if (!runs.includes(state.samples.run)) state.samples.run = runs[0] || null;
    sr.value = state.samples.run || '';
    const byStage = state.samples.run ? state.runs[state.samples.run].summary.samples : {};
    const stages = Object.keys(byStage);
    fill(ss, stages.map(s => [s, s]));
    if (!stages.includes(state.samples.stage)) state.samples.stage = stages.includes(state.stage) ? state.stage : stages[stages.length - 1] || null;
    ss.value = state.samples.stage || '';
    const steps = state.samples.stage ? byStage[state.samples.stage] : [];
    fill(sp, steps.map(s => [String(s), String(s)]));
    if (!steps.includes(state.samples.step)) state.samples.step = steps.length ? steps[steps.length - 1] : null;
    sp.value = state.samples.step === null ? '' : String(state.samples.step);
    box.textContent = '';
    if (state.samples.step === null) {
      box.append(el('p', { class: 'empty' }, 'No logged samples in the selected runs (log_completions_steps sets how often they are written).'));
      $('s-count').textContent = '';
      return;
    }
    const want = [state.samples.run, state.samples.stage, state.samples.step, state.samples.filter].join('|');
    box.dataset.want = want;
    let rows;
    try { rows = await api.samples(state.samples.run, state.samples.stage, state.samples.step); } catch (e) { showError(e); return; }
    if (box.dataset.want !== want) return;   // a newer request took over
    box.textContent = '';
    if (!rows) { box.append(el('p', { class: 'empty' }, 'These samples are not in this report.')); return; }
    const shown = rows.filter(s => matchesFilter(s, state.samples.filter));
    $('s-count').textContent = shown.length + ' of ' + rows.length + ' completions';
    const groups = new Map();
    for (const s of shown) {
      const k = s.group !== undefined ? 'g' + s.group : 'p' + s.prompt;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(s);
    }
    for (const g of groups.values()) {
      const card = el('div', { class: 'prompt-group' });
      const head = el('div', { class: 'prompt' }, el('span', { class: 'label' }, 'prompt' + (g[0].example_id ? ' · ' + g[0].example_id : '')),
        el('pre', {}, g[0].prompt || ''));
      card.append(head);
      for (const s of g) card.append(completionCard(s));
      box.append(card);
    }
    if (!shown.length) box.append(el('p', { class: 'empty' }, 'No completion of this step matches the filter.'));
  }

  function completionCard(s) {
    const chips = [];
    if (s.correct === true) chips.push(el('span', { class: 'chip ok' }, '✓ correct'));
    else if (s.correct === false) chips.push(el('span', { class: 'chip bad' }, '✗ wrong'));
    if (s.finish_reason === 'length') chips.push(el('span', { class: 'chip warn' }, 'truncated'));
    if (typeof s.reward === 'number') chips.push(el('span', { class: 'chip' }, 'reward ' + fmt(s.reward)));
    for (const [k, v] of Object.entries(s.rewards || {})) chips.push(el('span', { class: 'chip fn' }, k + ' ' + fmt(v)));
    if (typeof s.advantage === 'number') {
      chips.push(el('span', { class: 'chip ' + (s.advantage > 0 ? 'pos' : s.advantage < 0 ? 'neg' : '') }, 'advantage '
        + (s.advantage > 0 ? '+' : '') + fmt(s.advantage)));
    }
    if (typeof s.length === 'number') chips.push(el('span', { class: 'chip' }, s.length + ' tokens'));
    const body = el('pre', { class: 'completion' });
    for (const p of splitCompletion(s.completion || '')) body.append(el('span', { class: 'part-' + p.kind }, p.text));
    const cls = 'sample' + (s.correct === true ? ' correct' : s.correct === false ? ' wrong' : '');
    return el('div', { class: cls }, el('div', { class: 'chips' }, chips), body);
  }

  function fill(select, options) {
    const cur = select.value;
    select.textContent = '';
    for (const [v, t] of options) select.append(el('option', { value: v }, t));
    if (options.some(o => o[0] === cur)) select.value = cur;
  }

  // ------------------------------------------------------------------ eval and config
  function renderEval() {
    const view = $('view-eval');
    view.textContent = '';
    for (const id of state.selected) {
      const s = (state.runs[id] || {}).summary;
      if (!s) continue;
      const sec = el('div', { class: 'run-block' }, el('h2', {}, runLabel(id)));
      const body = el('div', {});
      // built by the server from eval/*.json, every value escaped
      body.innerHTML = s.eval_html || '<p class="empty">No eval results yet.</p>';
      sec.append(body);
      view.append(sec);
    }
    if (!state.selected.length) view.append(el('p', { class: 'empty' }, 'Pick one or more runs on the left.'));
  }

  function renderConfig() {
    const view = $('view-config');
    view.textContent = '';
    for (const id of state.selected) {
      const s = (state.runs[id] || {}).summary;
      if (!s) continue;
      const table = el('table', { class: 'stages' }, el('tr', {}, ['stage', 'type', 'status', 'progress', 'time'].map(h => el('th', {}, h))));
      for (const st of s.stages) {
        const pct = typeof st.progress === 'number' ? Math.round(st.progress * 100) : null;
        const prog = el('div', { class: 'progress' }, el('div', { class: 'bar', style: 'width:' + (pct === null ? 0 : pct) + '%' }));
        const text = (st.step !== undefined ? 'step ' + st.step + (st.max_steps ? ' / ' + st.max_steps : '') : '')
          + (pct !== null && st.status !== 'done' ? ' (' + pct + '%)' : '');
        table.append(el('tr', { 'data-stage': st.name }, el('td', {}, st.name), el('td', {}, st.type),
          el('td', {}, el('span', { class: 'status ' + st.status }, st.status)),
          el('td', {}, prog, el('span', { class: 'muted' }, text)),
          el('td', {}, st.seconds !== undefined ? fmt(st.seconds) + ' s' : '', st.borrowed_from ? ' (shared)' : '')));
      }
      view.append(el('div', { class: 'run-block' }, el('h2', {}, runLabel(id)), table,
        el('details', { open: true }, el('summary', {}, 'config.yaml'), el('pre', { class: 'config' }, s.config || '(no config.yaml)'))));
    }
    if (!state.selected.length) view.append(el('p', { class: 'empty' }, 'Pick one or more runs on the left.'));
  }

  // ------------------------------------------------------------------ tabs and wiring
  function setTab(tab) {
    state.tab = tab;
    for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab);
    for (const v of document.querySelectorAll('.view')) v.classList.toggle('hidden', v.id !== 'view-' + tab);
    $('chart-controls').classList.toggle('hidden', tab !== 'charts');
    renderAll();
  }

  function renderAll() {
    writeHash();
    renderRunList();
    if (state.tab === 'charts') renderCharts();
    else if (state.tab === 'samples') renderSamples();
    else if (state.tab === 'eval') renderEval();
    else renderConfig();
  }

  function wire() {
    for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => setTab(b.dataset.tab));
    $('stage').addEventListener('change', e => { state.stage = e.target.value; renderAll(); });
    $('smoothing').value = state.smoothing;
    $('smoothing-value').textContent = state.smoothing.toFixed(2);
    $('smoothing').addEventListener('input', e => {
      state.smoothing = Number(e.target.value);
      $('smoothing-value').textContent = state.smoothing.toFixed(2);
      renderAll();
    });
    $('xaxis').value = state.xaxis;
    $('xaxis').addEventListener('change', e => { state.xaxis = e.target.value; renderAll(); });
    $('logscale').checked = state.log;
    $('logscale').addEventListener('change', e => { state.log = e.target.checked; renderAll(); });
    $('metric-filter').addEventListener('input', e => { state.filter = e.target.value; renderAll(); });
    $('run-filter').addEventListener('input', e => { state.runFilter = e.target.value; renderRunList(); });
    $('group-seeds').addEventListener('change', e => { state.groupSeeds = e.target.checked; renderAll(); });
    $('s-run').addEventListener('change', e => { state.samples.run = e.target.value; state.samples.step = null; renderSamples(); });
    $('s-stage').addEventListener('change', e => { state.samples.stage = e.target.value; state.samples.step = null; renderSamples(); });
    $('s-step').addEventListener('change', e => { state.samples.step = Number(e.target.value); renderSamples(); });
    const move = (d) => {
      if (!state.samples.run || !state.samples.stage) return;
      const steps = state.runs[state.samples.run].summary.samples[state.samples.stage];
      const i = steps.indexOf(state.samples.step) + d;
      if (i >= 0 && i < steps.length) { state.samples.step = steps[i]; renderSamples(); }
    };
    $('s-prev').addEventListener('click', () => move(-1));
    $('s-next').addEventListener('click', () => move(1));
    for (const r of document.querySelectorAll('input[name=s-filter]')) {
      r.addEventListener('change', () => { state.samples.filter = r.value; renderSamples(); });
    }
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(() => { if (state.tab === 'charts') renderCharts(); }, 200); });
  }

  async function poll() {
    let tick = 0;
    for (;;) {
      await new Promise(r => setTimeout(r, POLL_MS));
      tick++;
      try {
        if (tick % (RUNS_MS / POLL_MS) === 0) await loadRuns();
        const summaries = tick % (SUMMARY_MS / POLL_MS) === 0;
        const changed = await refreshSelected(summaries);
        $('live').textContent = 'live · updated ' + new Date().toLocaleTimeString();
        $('live').className = 'muted';
        if (changed && state.tab === 'charts') renderCharts();
        if (summaries && state.tab === 'config') renderConfig();
        if (summaries && state.tab === 'eval') renderEval();
        window.r1kitDashboard.polls++;
      } catch (e) {
        showError(e);
      }
    }
  }

  async function start() {
    readHash();
    wire();
    $('mode').textContent = EMBEDDED ? 'report' : 'dashboard';
    try {
      await loadRuns();
    } catch (e) { showError(e); return; }
    const ids = state.runList.runs.map(r => r.id);
    state.selected = state.selected.filter(id => ids.includes(id));
    if (!state.selected.length) state.selected = EMBEDDED ? ids.slice() : ids.slice(0, 1);
    await refreshSelected(true);
    setTab(state.tab);
    window.r1kitDashboard.ready = true;
    if (!EMBEDDED) poll();
    else $('live').textContent = 'report written ' + (EMBEDDED.generated || '') + ' (no server, no network)';
  }

  // for the browser tests and for poking at the data from the console
  window.r1kitDashboard = {
    ready: false, polls: 0, state, charts,
    points: (id, stage, key) => seriesOf(id, stage, key).xs.length,
    chartPoints: (key) => { const c = charts.find(c => c.key === key); return c ? c.u.data[0].length : -1; },
    chartSeries: (key) => { const c = charts.find(c => c.key === key); return c ? c.u.series.slice(1).map(s => s.label) : []; },
    select: (ids) => toggleRuns(ids, true),
    setTab,
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start); else start();
})();
