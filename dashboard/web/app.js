// urlvr dashboard page. It draws with uPlot (vendored, unmodified) and reads
// either the dashboard server's JSON API or, in a self-contained report,
// the data embedded in the page as window.URLVR_DATA.
(function () {
  'use strict';

  var DATA = window.URLVR_DATA || null;
  var POLL_MS = 1000;
  var COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

  // The paper's panels and the run log's keys, handed over by the server
  // (their one owner is the Go package runlog): window.URLVR_SCHEMA.
  var SCHEMA = window.URLVR_SCHEMA;
  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&'); }
  var PANELS = SCHEMA.panels.map(function (p) {
    if (p.table === 'validation') p.match = new RegExp('^' + escapeRe(SCHEMA.validationPrefix) + '.+/avg@\\d+$');
    return p;
  });
  // Names a confidence interval of metric K may be logged under.
  var CI_SUFFIXES = [['/ci_low', '/ci_high'], ['_ci_low', '_ci_high'], ['/ci_lo', '/ci_hi'], ['_ci_lo', '_ci_hi'],
    ['/lo', '/hi'], ['_lo', '_hi'], ['_lower', '_upper'], ['/lower', '/upper']];

  var state = { smooth: 0, log: false, timer: null, charts: [], view: null };
  var app = document.getElementById('app');

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') e.textContent = attrs[k];
        else if (k === 'class') e.className = attrs[k];
        else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c != null) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return e;
  }
  function fmt(v) {
    if (v == null || typeof v !== 'number' || !isFinite(v)) return v == null ? '' : String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return String(Math.round(v * 10000) / 10000);
  }
  function status(text) { document.getElementById('status').textContent = text; }
  function getJSON(url) {
    return fetch(url, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error(url.split('?')[0] + ': ' + r.status);
      return r.json();
    });
  }
  var api = {
    catalog: function () { return DATA ? Promise.resolve(DATA.catalog) : getJSON('api/catalog'); },
    run: function (id, q) {
      if (DATA) return Promise.resolve(DATA.runs[id] || null);
      return getJSON('api/run?id=' + encodeURIComponent(id) + (q || ''));
    },
    samples: function (id, step) {
      if (DATA) return Promise.resolve(((DATA.samples || {})[id] || {})[step] || []);
      return getJSON('api/samples?id=' + encodeURIComponent(id) + '&step=' + step);
    },
    study: function (id) { return DATA ? Promise.resolve(DATA.studies[id] || null) : getJSON('api/study?id=' + encodeURIComponent(id)); }
  };

  function clearView() {
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    state.charts.forEach(function (c) { c.destroy(); });
    state.charts = [];
    app.innerHTML = '';
  }
  function crumbs(parts) {
    var c = document.getElementById('crumbs');
    c.innerHTML = '';
    parts.forEach(function (p) { c.appendChild(p.href ? el('a', { href: p.href, text: p.text }) : el('span', { text: p.text })); });
  }

  // ---- series helpers ----

  // align puts several {x, y} series on one x axis for uPlot; a series has
  // null where it has no point.
  function align(list) {
    var xs = {};
    list.forEach(function (s) { s.x.forEach(function (x) { xs[x] = true; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var idx = {};
    x.forEach(function (v, i) { idx[v] = i; });
    var out = [x];
    list.forEach(function (s) {
      var y = new Array(x.length).fill(null);
      for (var i = 0; i < s.x.length; i++) y[idx[s.x[i]]] = s.y[i];
      out.push(y);
    });
    return out;
  }
  // smooth is TensorBoard's debiased exponential moving average.
  function smooth(y, w) {
    if (!w) return y;
    var out = new Array(y.length), last = 0, n = 0;
    for (var i = 0; i < y.length; i++) {
      if (y[i] == null) { out[i] = null; continue; }
      last = last * w + (1 - w) * y[i]; n++;
      out[i] = last / (1 - Math.pow(w, n));
    }
    return out;
  }
  function forLog(y) { return y.map(function (v) { return v != null && v > 0 ? v : null; }); }

  function eventsPlugin(events) {
    return {
      hooks: {
        draw: [function (u) {
          if (!events || !events.length) return;
          var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
          ctx.save();
          ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
          events.forEach(function (ev) {
            var x = u.valToPos(ev.step, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            var color = ev.event === 'collapse' || ev.event === 'divergence' ? '#dc2626' : ev.event === 'early_stop' ? '#ea580c' : '#6b7280';
            ctx.strokeStyle = color; ctx.fillStyle = color;
            ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.lineWidth = 1.5 * devicePixelRatio;
            ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + h); ctx.stroke();
            ctx.fillText(ev.event, x + 3 * devicePixelRatio, top + 12 * devicePixelRatio);
          });
          ctx.restore();
        }]
      }
    };
  }

  // chart draws series [{label, x, y, color, dash, band}] into box.
  function chart(box, series, opts) {
    opts = opts || {};
    var data = align(series);
    var uSeries = [{ label: opts.xLabel || 'step' }];
    series.forEach(function (s, i) {
      var y = data[i + 1];
      if (!s.raw) y = smooth(y, state.smooth);
      if (state.log) y = forLog(y);
      data[i + 1] = y;
      var color = s.color || COLORS[i % COLORS.length];
      var us = { label: s.label, stroke: color, width: s.width || 1.6,
        dash: s.dash, spanGaps: true, points: { show: s.points != null ? s.points : false, size: 5 },
        value: function (u, v) { return v == null ? '–' : fmt(v); } };
      if (s.scatter) {
        us.paths = function () { return null; };
        us.points = { show: true, size: 11, width: 2, stroke: color, fill: s.hollow ? '#fff' : color };
      }
      uSeries.push(us);
    });
    var width = Math.max(260, box.clientWidth - 30);
    var bands = [];
    series.forEach(function (s, i) { if (s.bandWith != null) bands.push({ series: [i + 1, s.bandWith + 1], fill: s.bandFill }); });
    var u = new uPlot({
      width: width, height: opts.height || 250,
      scales: opts.pad ? { x: { time: false, range: padRange(0.08) }, y: { range: padRange(0.15) } }
        : { x: { time: false }, y: state.log ? { distr: 3, log: 10 } : { auto: true } },
      series: uSeries, bands: bands,
      axes: [{ label: opts.xLabel || 'step', size: 36 }, { size: opts.yLabel ? 70 : 56, label: opts.yLabel, values: function (u, vals) { return vals.map(fmt); } }],
      legend: { show: opts.legend !== false },
      cursor: { drag: { x: true, y: false } },
      plugins: [eventsPlugin(opts.events), { hooks: { draw: opts.draw ? [opts.draw] : [] } }]
    }, data, box);
    box.__uplot = u; // lets tests and the console read what was drawn
    state.charts.push(u);
    return u;
  }

  // padRange widens a scale by a share of its span on both sides, so that
  // scatter points and their labels clear the frame.
  function padRange(share) {
    return function (u, min, max) {
      var span = max - min || Math.abs(max) || 1;
      return [min - share * span, max + share * span];
    };
  }

  function ciPair(keys, k) {
    for (var i = 0; i < CI_SUFFIXES.length; i++) {
      var lo = k + CI_SUFFIXES[i][0], hi = k + CI_SUFFIXES[i][1];
      if (keys.indexOf(lo) >= 0 && keys.indexOf(hi) >= 0) return [lo, hi];
    }
    return null;
  }

  // panelSeries picks a panel's series out of a run's tables.
  function panelSeries(p, run) {
    var table = p.table === 'validation' ? run.validation : run.metrics;
    var keys = Object.keys(table.series).sort();
    var want = p.keys ? p.keys.filter(function (k) { return table.series[k]; }) : keys.filter(function (k) { return p.match.test(k); });
    var out = [];
    want.forEach(function (k, i) {
      var color = COLORS[i % COLORS.length];
      var s = table.series[k];
      out.push({ label: k, key: k, x: s.x, y: s.y, color: color, width: k.indexOf('/mean/') >= 0 ? 2.6 : 1.6 });
      var ci = ciPair(keys, k);
      if (ci) {
        var main = out.length - 1;
        out.push({ label: k + ' CI high', key: ci[1], x: table.series[ci[1]].x, y: table.series[ci[1]].y, color: color, dash: [4, 3], width: 1, ci: true, bandWith: out.length + 1, bandFill: hexA(color, 0.12) });
        out.push({ label: k + ' CI low', key: ci[0], x: table.series[ci[0]].x, y: table.series[ci[0]].y, color: color, dash: [4, 3], width: 1, ci: true });
        out[main].points = true;
      }
    });
    if (p.id === 'validation') out.forEach(function (s) { if (!s.ci) s.points = true; });
    return out;
  }
  function hexA(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16 & 255) + ',' + (n >> 8 & 255) + ',' + (n & 255) + ',' + a + ')';
  }
  function countPoints(series) {
    return series.reduce(function (n, s) { return n + (s.ci ? 0 : s.y.length); }, 0);
  }

  // ---- home ----

  function viewHome() {
    crumbs([{ text: 'runs' }]);
    return api.catalog().then(function (cat) {
      clearView();
      var roots = (cat.roots || []).join(', ');
      if (!cat.runs || cat.runs.length === 0) {
        app.appendChild(el('div', { class: 'card empty-page', id: 'no-runs' }, [
          el('h1', { text: 'No runs found' }),
          el('p', { class: 'muted', text: 'Nothing under ' + (roots || 'the given directories') + ' has a metrics.jsonl, validation.jsonl, veRL log or TRL trainer_state.json yet. A run appears here as soon as it writes its first line.' })
        ]));
        if (!DATA) state.timer = setInterval(function () { api.catalog().then(function (c) { if (c.runs && c.runs.length) route(); }); }, 2000);
        return;
      }
      app.appendChild(el('h1', { text: 'Runs' }));
      app.appendChild(el('p', { class: 'muted', text: 'Under ' + roots + '. Tick runs to overlay them.' }));
      var tbody = el('tbody');
      cat.runs.forEach(function (r) {
        tbody.appendChild(el('tr', null, [
          el('td', null, [el('input', { type: 'checkbox', value: r.id, 'aria-label': 'select ' + r.name })]),
          el('td', null, [el('a', { href: '#/run/' + encodeURIComponent(r.id), text: r.name })]),
          el('td', { text: r.kind }),
          el('td', { text: r.study ? 'study ' + studyName(cat, r.study) : '' })
        ]));
      });
      var table = el('table', { class: 'runlist' }, [el('thead', null, [el('tr', null, [el('th'), el('th', { text: 'run' }), el('th', { text: 'written by' }), el('th', { text: 'part of' })])]), tbody]);
      app.appendChild(el('div', { class: 'controls' }, [el('button', { id: 'compare', text: 'Overlay selected runs', onclick: function () {
        var ids = Array.prototype.map.call(tbody.querySelectorAll('input:checked'), function (i) { return encodeURIComponent(i.value); });
        if (ids.length) location.hash = '#/compare/' + ids.join(',');
      } })]));
      app.appendChild(table);
      if (cat.studies && cat.studies.length) {
        app.appendChild(el('h2', { text: 'Studies' }));
        var ul = el('ul');
        cat.studies.forEach(function (s) {
          ul.appendChild(el('li', null, [el('a', { href: '#/study/' + encodeURIComponent(s.id), text: s.name }), ' ', el('span', { class: 'muted', text: (s.kind || 'study') + ', ' + (s.runs || []).length + ' runs' })]));
        });
        app.appendChild(ul);
      }
      if (cat.problems && cat.problems.length) app.appendChild(el('p', { class: 'muted', text: 'Not readable: ' + cat.problems.join('; ') }));
      status(cat.runs.length + ' runs');
    });
  }
  function studyName(cat, id) {
    for (var i = 0; i < (cat.studies || []).length; i++) if (cat.studies[i].id === id) return cat.studies[i].name;
    return id;
  }

  // ---- one run ----

  function controls(onChange) {
    var smoothOut = el('span', { text: String(state.smooth) });
    return el('div', { class: 'controls' }, [
      el('label', null, ['smoothing', el('input', { id: 'smoothing', type: 'range', min: '0', max: '0.99', step: '0.01', value: String(state.smooth), oninput: function (e) {
        state.smooth = Number(e.target.value); smoothOut.textContent = e.target.value; onChange();
      } }), smoothOut]),
      el('label', null, [el('input', { id: 'logscale', type: 'checkbox', onchange: function (e) { state.log = e.target.checked; onChange(); } }), 'log scale'])
    ]);
  }

  function viewRun(id) {
    var run = null, panelsBox = el('div', { class: 'grid', id: 'panels' }), head = el('div'), sampleBox = el('div', { id: 'samples' });
    function draw() {
      state.charts.forEach(function (c) { c.destroy(); });
      state.charts = [];
      panelsBox.innerHTML = '';
      PANELS.forEach(function (p) {
        var series = panelSeries(p, run);
        var box = el('div', { class: 'card panel', id: 'panel-' + p.id, 'data-points': String(countPoints(series)), 'data-series': String(series.filter(function (s) { return !s.ci; }).length) }, [el('h3', { text: p.title })]);
        panelsBox.appendChild(box);
        if (!series.length) {
          var want = p.keys ? p.keys.join(', ') : SCHEMA.validationPrefix + '<set>/avg@k';
          box.appendChild(el('div', { class: 'empty', text: 'not logged (' + want + ')' }));
          return;
        }
        chart(box, series, { events: run.events });
      });
    }
    function header() {
      head.innerHTML = '';
      var r = run.run, m = run.metrics;
      head.appendChild(el('h1', { text: r.name }));
      var facts = [el('span', null, [el('b', { text: 'written by ' }), r.kind]),
        el('span', { id: 'lines' }, [el('b', { text: 'steps logged ' }), String(m.lines)]),
        el('span', null, [el('b', { text: 'last step ' }), fmt(m.last_step)])];
      if (m.skipped || run.validation.skipped) facts.push(el('span', { class: 'no', id: 'skipped', text: (m.skipped + run.validation.skipped) + ' lines skipped (not a metric record)' }));
      if (m.torn) facts.push(el('span', { class: 'muted', text: 'last line incomplete (being written or torn)' }));
      if (m.downsampled) facts.push(el('span', { class: 'muted', text: 'long series drawn from min/max buckets' }));
      head.appendChild(el('div', { class: 'kv' }, facts));
      var flags = el('div', { class: 'controls' });
      (run.events || []).forEach(function (ev) {
        // A foreign log's collapse and divergence are said by its flags below.
        if (run.flags && (ev.event === 'collapse' || ev.event === 'divergence')) return;
        flags.appendChild(el('span', { class: 'flag ' + (ev.event === 'collapse' || ev.event === 'divergence' ? 'bad' : 'info'), text: ev.event + ' @ step ' + ev.step }));
      });
      var sum = run.summary;
      if (sum && sum.collapse) flags.appendChild(el('span', { class: 'flag ' + (sum.collapse.collapsed ? 'bad' : 'good'), text: sum.collapse.collapsed ? 'Model Collapse Step ' + sum.collapse.collapse_step : 'no collapse (summary)' }));
      if (run.flags) {
        var f = run.flags;
        if (f.collapse) flags.appendChild(el('span', { class: 'flag ' + (f.collapse.collapsed ? 'bad' : 'good'), id: 'flag-collapse', text: f.collapse.collapsed ? 'Model Collapse Step ' + f.collapse.collapse_step : 'no collapse (min reward accuracy ' + fmt(f.collapse.min) + ')' }));
        if (f.divergence) flags.appendChild(el('span', { class: 'flag ' + (f.divergence.diverged ? 'bad' : 'good'), id: 'flag-divergence', text: f.divergence.diverged ? 'proxy/ground truth diverge from step ' + f.divergence.divergence_step : 'no proxy/ground-truth divergence (max gap ' + fmt(f.divergence.max_gap) + ')' }));
        (f.notes || []).forEach(function (n) { flags.appendChild(el('span', { class: 'flag info', text: n })); });
      }
      head.appendChild(flags);
      if (run.mapping) {
        var mp = run.mapping;
        var found = Object.keys(mp.found).sort().map(function (k) { return k + ' ← ' + mp.found[k]; });
        head.appendChild(el('details', { class: 'card', id: 'mapping', open: '' }, [
          el('summary', { text: 'Metric names (' + mp.format + '): ' + found.length + ' found, ' + mp.missing.length + ' missing' }),
          el('p', null, [el('b', { text: 'found: ' }), found.join(', ') || 'none']),
          el('p', null, [el('b', { text: 'missing: ' }), mp.missing.join(', ') || 'none']),
          el('p', { class: 'muted' }, [el('b', { text: 'kept under their own names: ' }), (mp.unmapped || []).join(', ') || 'none'])
        ]));
      }
    }
    function samplesView() {
      sampleBox.innerHTML = '';
      if (!run.samples || !run.samples.length) return;
      sampleBox.appendChild(el('h2', { text: 'Rollouts' }));
      var sel = el('select', { id: 'sample-step', 'aria-label': 'step' });
      run.samples.forEach(function (s) { sel.appendChild(el('option', { value: String(s), text: 'step ' + s })); });
      sel.value = String(run.samples[run.samples.length - 1]);
      var only = el('select', { id: 'sample-filter', 'aria-label': 'filter' }, [el('option', { value: 'all', text: 'all rollouts' }), el('option', { value: 'right', text: 'correct' }), el('option', { value: 'wrong', text: 'wrong' }), el('option', { value: 'rewarded-wrong', text: 'rewarded but wrong' })]);
      var tableBox = el('div');
      function load() {
        api.samples(run.run.id, sel.value).then(function (rows) {
          tableBox.innerHTML = '';
          rows = (rows || []).filter(function (r) {
            if (only.value === 'right') return r.correct === true;
            if (only.value === 'wrong') return r.correct === false;
            if (only.value === 'rewarded-wrong') return r.correct === false && r.reward > 0;
            return true;
          });
          var tb = el('tbody');
          rows.forEach(function (r) {
            tb.appendChild(el('tr', null, [
              el('td', { text: r.prompt_id || '' }), el('td', null, [el('pre', { text: r.prompt || '' })]),
              el('td', null, [el('pre', { text: r.response || '' })]),
              el('td', { text: r.answer == null ? '' : String(r.answer) }), el('td', { text: r.label == null ? '' : String(r.label) }),
              el('td', { text: r.gold == null ? '' : String(r.gold) }), el('td', { class: 'num', text: fmt(r.reward) }),
              el('td', { class: r.correct ? 'ok' : 'no', text: r.correct ? '✓' : '✗' })
            ]));
          });
          tableBox.appendChild(el('table', { id: 'rollouts' }, [el('thead', null, [el('tr', null, ['prompt', 'question', 'response', 'answer', 'voted label', 'gold', 'reward', 'correct'].map(function (h) { return el('th', { text: h }); }))]), tb]));
          tableBox.appendChild(el('p', { class: 'muted', text: rows.length + ' rollouts' }));
        });
      }
      sel.addEventListener('change', load); only.addEventListener('change', load);
      sampleBox.appendChild(el('div', { class: 'controls' }, [sel, only]));
      sampleBox.appendChild(tableBox);
      load();
    }
    // merge appends the points after the client's last step.
    function merge(dst, src) {
      Object.keys(src.series).forEach(function (k) {
        var s = src.series[k], d = dst.series[k];
        if (!d) { dst.series[k] = s; return; }
        var last = d.x.length ? d.x[d.x.length - 1] : -Infinity;
        for (var i = 0; i < s.x.length; i++) if (s.x[i] > last) { d.x.push(s.x[i]); d.y.push(s.y[i]); }
      });
      ['lines', 'skipped', 'torn', 'last_step'].forEach(function (k) { dst[k] = src[k]; });
      dst.downsampled = dst.downsampled || src.downsampled;
    }
    function poll() {
      var q = '&gen=' + run.gen + '&after_m=' + run.metrics.last_step + '&after_v=' + run.validation.last_step;
      api.run(id, q).then(function (p) {
        var grew = p.full || p.metrics.last_step !== run.metrics.last_step || p.validation.last_step !== run.validation.last_step ||
          p.events.length !== run.events.length || p.metrics.lines !== run.metrics.lines;
        if (p.full) run = p;
        else {
          merge(run.metrics, p.metrics); merge(run.validation, p.validation);
          run.events = p.events; run.summary = p.summary; run.flags = p.flags;
          if (p.samples.length !== run.samples.length) { run.samples = p.samples; samplesView(); }
        }
        if (grew) { header(); draw(); }
        status('live · step ' + fmt(run.metrics.last_step) + ' · ' + new Date().toLocaleTimeString());
      }).catch(function (e) { status('not updated: ' + e.message); });
    }
    return api.run(id).then(function (p) {
      clearView();
      if (!p) { app.appendChild(el('p', { text: 'No such run.' })); return; }
      run = p;
      crumbs([{ text: 'runs', href: '#/' }, { text: run.run.name }]);
      window.__urlvr = { run: function () { return run; } };
      app.appendChild(head);
      app.appendChild(controls(draw));
      app.appendChild(panelsBox);
      app.appendChild(sampleBox);
      header(); draw(); samplesView();
      if (!DATA) state.timer = setInterval(poll, POLL_MS);
      else status('report · ' + (DATA.created || ''));
    });
  }

  // ---- several runs ----

  var COMPARE_DEFAULT = SCHEMA.compareDefault;

  function viewCompare(ids) {
    var runs = {}, chosen = ids.slice(), metricsChosen = COMPARE_DEFAULT.slice();
    var box = el('div', { class: 'grid', id: 'overlay' }), picker = el('div', { class: 'card' }), metricPick = el('select', { id: 'add-metric', 'aria-label': 'add metric' });
    function keyOf(run, pattern) {
      var tables = [run.metrics, run.validation];
      for (var t = 0; t < 2; t++) {
        var keys = Object.keys(tables[t].series);
        if (pattern.slice(-1) === '*') {
          var pre = pattern.slice(0, -1);
          for (var i = 0; i < keys.length; i++) if (keys[i].indexOf(pre) === 0) return tables[t].series[keys[i]];
        } else if (tables[t].series[pattern]) return tables[t].series[pattern];
      }
      return null;
    }
    function draw() {
      state.charts.forEach(function (c) { c.destroy(); });
      state.charts = [];
      box.innerHTML = '';
      var all = {};
      chosen.forEach(function (id) { var r = runs[id]; if (r) [r.metrics, r.validation].forEach(function (t) { Object.keys(t.series).forEach(function (k) { all[k] = true; }); }); });
      metricPick.innerHTML = '';
      metricPick.appendChild(el('option', { value: '', text: 'add a metric…' }));
      Object.keys(all).sort().forEach(function (k) { metricPick.appendChild(el('option', { value: k, text: k })); });
      metricsChosen.forEach(function (m) {
        var series = [];
        chosen.forEach(function (id, i) {
          var r = runs[id]; if (!r) return;
          var s = keyOf(r, m);
          if (s) series.push({ label: r.run.name, x: s.x, y: s.y, color: COLORS[i % COLORS.length] });
        });
        var card = el('div', { class: 'card panel', 'data-metric': m, 'data-series': String(series.length) }, [el('h3', { text: m })]);
        box.appendChild(card);
        if (!series.length) { card.appendChild(el('div', { class: 'empty', text: 'none of the chosen runs logs ' + m })); return; }
        chart(card, series, {});
      });
    }
    function load() {
      return Promise.all(chosen.map(function (id) { return api.run(id).then(function (p) { if (p) runs[id] = p; }); })).then(draw);
    }
    return api.catalog().then(function (cat) {
      clearView();
      crumbs([{ text: 'runs', href: '#/' }, { text: 'overlay' }]);
      app.appendChild(el('h1', { text: 'Runs overlaid' }));
      cat.runs.forEach(function (r) {
        var cb = el('input', { type: 'checkbox', value: r.id, onchange: function (e) {
          if (e.target.checked) chosen.push(r.id); else chosen = chosen.filter(function (x) { return x !== r.id; });
          history.replaceState(null, '', '#/compare/' + chosen.map(encodeURIComponent).join(','));
          load();
        } });
        if (chosen.indexOf(r.id) >= 0) cb.checked = true;
        picker.appendChild(el('label', { style: 'margin-right:14px;display:inline-flex;gap:4px' }, [cb, r.name]));
      });
      app.appendChild(picker);
      metricPick.addEventListener('change', function () { if (metricPick.value) { metricsChosen.push(metricPick.value); draw(); } });
      var c = controls(draw);
      c.appendChild(metricPick);
      app.appendChild(c);
      app.appendChild(box);
      window.__urlvr = { runs: function () { return runs; } };
      if (!DATA) state.timer = setInterval(load, 3 * POLL_MS);
      return load();
    });
  }

  // ---- a study's own views ----

  // heatmapCard draws the per-problem study's heatmap (paper Figs. 4, 15):
  // a row per problem, a column per epoch, a cell green where greedy
  // decoding was right; a dot where that epoch's highest-reward rollout was
  // right (the green wave); each row labelled with its pattern.
  function heatmapCard(h) {
    var NS = 'http://www.w3.org/2000/svg';
    function svg(tag, attrs, text) {
      var e = document.createElementNS(NS, tag);
      Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text != null) e.textContent = text;
      return e;
    }
    var cols = h.epochs + 1, cell = Math.max(6, Math.min(22, Math.floor(760 / cols))), left = 130, right = 150, top = 22;
    var width = left + cols * cell + right, height = top + h.rows.length * cell + 26;
    var card = el('div', { class: 'card panel', id: 'heatmap', 'data-rows': String(h.rows.length), 'data-cols': String(cols) },
      [el('h3', { text: 'Per problem and epoch: greedy correctness and the top-reward rollout' })]);
    if (h.live) card.appendChild(el('p', { class: 'muted', id: 'heatmap-live', text: 'in progress: greedy cells from the runs\' logs; the patterns and the top-reward dots appear when the study writes its results' }));
    else card.appendChild(el('p', { id: 'pattern-counts' }, (h.patterns || []).map(function (p) {
      return el('span', { class: 'pattern', 'data-count': String(p.count), style: 'margin-right:16px' }, [el('b', { text: String(p.count) }), ' ' + p.pattern]);
    })));
    var s = svg('svg', { width: width, height: height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', 'aria-label': 'per-problem heatmap' });
    for (var e = 0; e < cols; e += Math.max(1, Math.ceil(cols / 12))) {
      s.appendChild(svg('text', { x: left + e * cell + cell / 2, y: top - 6, 'text-anchor': 'middle', 'font-size': 10, fill: '#6b7280' }, String(e)));
    }
    h.rows.forEach(function (r, i) {
      var y = top + i * cell;
      var label = svg('text', { x: left - 6, y: y + cell / 2 + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#111827' }, r.id);
      s.appendChild(label);
      for (var e = 0; e < cols; e++) {
        var ok = !!r.greedy[e], known = e < r.greedy.length;
        var rect = svg('rect', { class: 'cell', x: left + e * cell, y: y, width: cell - 1, height: cell - 1,
          fill: !known ? '#f3f4f6' : ok ? '#16a34a' : '#fca5a5', 'data-greedy': known ? String(ok) : '' });
        rect.appendChild(svg('title', null, r.id + ', epoch ' + e + ': greedy ' + (ok ? 'right' : 'wrong') +
          (r.confidence && r.confidence[e] != null ? ', confidence ' + fmt(r.confidence[e]) : '') +
          (e > 0 && r.wave ? ', top-reward rollout ' + (r.wave[e] ? 'right' : 'wrong') : '')));
        s.appendChild(rect);
        if (e > 0 && r.wave && r.wave[e]) {
          s.appendChild(svg('circle', { class: 'wave', cx: left + e * cell + (cell - 1) / 2, cy: y + (cell - 1) / 2, r: Math.max(1.5, cell / 6), fill: '#064e3b', stroke: '#fff', 'stroke-width': 1 }));
        }
      }
      s.appendChild(svg('text', { class: 'row-pattern', x: left + cols * cell + 8, y: y + cell / 2 + 4, 'font-size': 11, fill: '#374151' }, r.pattern || 'running'));
    });
    s.appendChild(svg('text', { x: left + cols * cell / 2, y: height - 6, 'text-anchor': 'middle', 'font-size': 11, fill: '#6b7280' }, 'epoch'));
    card.appendChild(el('div', { style: 'overflow-x:auto' }, [s]));
    card.appendChild(el('p', { class: 'muted', text: 'green: greedy answer right · red: wrong · dot: the highest-reward rollout of that epoch was right · epoch 0 is before training' }));
    return card;
  }

  // intrinsicCards draws the intrinsic-reward study: each reward's
  // validation curve (mean over seeds) with its interval over problems,
  // and how many runs of each reward ended in each failure mode.
  function intrinsicCards(v) {
    var card = el('div', { class: 'card panel', id: 'intrinsic', 'data-rewards': String(v.rewards.length) },
      [el('h3', { text: 'Validation per reward (' + (v.rewards[0] ? v.rewards[0].metric : '') + ', mean over seeds, 95% CI over problems)' })]);
    app.appendChild(card);
    var series = [];
    v.rewards.forEach(function (r, i) {
      var color = COLORS[i % COLORS.length];
      series.push({ label: r.reward + ' (' + r.seeds + ' seeds)', x: r.steps, y: r.value, color: color, points: true, raw: true, width: 2.2 });
      series.push({ label: r.reward + ' CI high', x: r.steps, y: r.hi, color: color, dash: [4, 3], width: 1, raw: true, bandWith: series.length + 1, bandFill: hexA(color, 0.12) });
      series.push({ label: r.reward + ' CI low', x: r.steps, y: r.lo, color: color, dash: [4, 3], width: 1, raw: true });
    });
    chart(card, series, { height: 300 });
    var modes = v.modes;
    var tb = el('tbody');
    v.rewards.forEach(function (r) {
      tb.appendChild(el('tr', null, [el('td', { text: r.reward }), el('td', { text: r.rise_then_fall ? 'yes' : 'no' })].concat(
        modes.map(function (m) { return el('td', { class: 'num', text: String(r.modes[m] || 0) }); }))));
    });
    app.appendChild(el('h2', { text: 'Failure modes (runs per reward)' }));
    app.appendChild(el('div', { style: 'overflow-x:auto' }, [el('table', { id: 'failure-modes' }, [
      el('thead', null, [el('tr', null, [el('th', { text: 'reward' }), el('th', { text: 'rose, then fell' })].concat(modes.map(function (m) { return el('th', { text: m }); })))]), tb])]));
  }

  // ---- a study ----

  function viewStudy(id) {
    return api.study(id).then(function (st) {
      clearView();
      if (!st) { app.appendChild(el('p', { text: 'No such study.' })); return; }
      crumbs([{ text: 'runs', href: '#/' }, { text: 'study ' + st.study.name }]);
      app.appendChild(el('h1', { text: 'Study ' + st.study.name }));
      app.appendChild(el('p', { class: 'muted', text: (st.study.kind || 'study') + ' · ' + st.facets.length + ' runs' }));
      if (st.scatter) {
        var sc = st.scatter;
        var card = el('div', { class: 'card panel', id: 'scatter', 'data-points': String(sc.points.length) }, [el('h3', { text: 'Model Collapse Step vs ground-truth gain' })]);
        var corr = [];
        if (sc.spearman != null) corr.push('Spearman ρ = ' + fmt(sc.spearman));
        if (sc.pearson != null) corr.push('Pearson r = ' + fmt(sc.pearson));
        if (st.correlation) {
          try {
            (st.correlation.correlations || []).forEach(function (c) {
              if (c.kendall_tau_b != null && /collapse/i.test(c.predictor)) corr.push('Kendall τ-b = ' + fmt(c.kendall_tau_b) + ' (' + c.predictor + ')');
            });
          } catch (e) { /* correlation.json of another shape */ }
        }
        card.appendChild(el('p', { id: 'correlation', text: corr.join(' · ') + ' over ' + sc.points.length + ' models; hollow: no collapse within the step cap' }));
        app.appendChild(card);
        var pts = sc.points.slice().sort(function (a, b) { return a.x - b.x; });
        var solid = { label: 'collapsed', x: [], y: [], color: COLORS[0], scatter: true, raw: true };
        var hollow = { label: 'no collapse within the cap', x: [], y: [], color: COLORS[0], scatter: true, hollow: true, raw: true };
        pts.forEach(function (p) { var s = p.censored ? hollow : solid; s.x.push(p.x); s.y.push(p.y); });
        chart(card, [solid, hollow].filter(function (s) { return s.x.length; }), { xLabel: sc.x_label, yLabel: sc.y_label, pad: true, height: 320, draw: function (u) {
          var ctx = u.ctx; ctx.save(); ctx.fillStyle = '#374151'; ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif';
          pts.forEach(function (p) { ctx.fillText(p.label, u.valToPos(p.x, 'x', true) + 8 * devicePixelRatio, u.valToPos(p.y, 'y', true) - 6 * devicePixelRatio); });
          ctx.restore();
        } });
      }
      if (st.heatmap) app.appendChild(heatmapCard(st.heatmap));
      if (st.intrinsic) intrinsicCards(st.intrinsic);
      if (st.results.length) {
        app.appendChild(el('h2', { text: 'Results' }));
        var cols = [];
        st.results.forEach(function (r) { Object.keys(r).forEach(function (k) { if (cols.indexOf(k) < 0 && (typeof r[k] !== 'object' || r[k] === null)) cols.push(k); }); });
        // The row's name first: the model of an MCS study, the run of others.
        ['run', 'model'].forEach(function (k) { var i = cols.indexOf(k); if (i > 0) { cols.splice(i, 1); cols.unshift(k); } });
        var tb = el('tbody');
        st.results.forEach(function (r) { tb.appendChild(el('tr', null, cols.map(function (c) { return el('td', { class: typeof r[c] === 'number' ? 'num' : '', text: typeof r[c] === 'number' ? fmt(r[c]) : (r[c] == null ? '' : String(r[c])) }); }))); });
        app.appendChild(el('div', { style: 'overflow-x:auto' }, [el('table', { id: 'results' }, [el('thead', null, [el('tr', null, cols.map(function (c) { return el('th', { text: c }); }))]), tb])]));
      }
      if (st.facets.length) {
        var keys = {};
        st.facets.forEach(function (f) { Object.keys(f.series).forEach(function (k) { keys[k] = true; }); });
        keys = Object.keys(keys).sort();
        // The mean validation first, else the default metric, else any the runs log.
        var def = keys.filter(function (k) { return k.indexOf(SCHEMA.meanPrefix) === 0; })[0] || (keys.indexOf(SCHEMA.facetDefault) >= 0 ? SCHEMA.facetDefault : keys[0]);
        var sel = el('select', { id: 'facet-metric', 'aria-label': 'facet metric' }, keys.map(function (k) { return el('option', { value: k, text: k }); }));
        sel.value = def;
        var grid = el('div', { class: 'facets', id: 'facets' });
        var own = state.charts.length; // the study's own charts stay
        var drawFacets = function () {
          state.charts.slice(own).forEach(function (c) { c.destroy(); });
          state.charts = state.charts.slice(0, own);
          grid.innerHTML = '';
          var lo = Infinity, hi = -Infinity;
          st.facets.forEach(function (f) { var s = f.series[sel.value]; if (s) s.y.forEach(function (v) { lo = Math.min(lo, v); hi = Math.max(hi, v); }); });
          st.facets.forEach(function (f, i) {
            var s = f.series[sel.value];
            var card = el('div', { class: 'card panel' }, [el('h3', null, [el('a', { href: '#/run/' + encodeURIComponent(f.id), text: f.name })])]);
            grid.appendChild(card);
            if (!s) { card.appendChild(el('div', { class: 'empty', text: 'not logged' })); return; }
            var u = chart(card, [{ label: sel.value, x: s.x, y: s.y, color: COLORS[i % COLORS.length] }], { height: 170, legend: false });
            if (isFinite(lo) && hi > lo && !state.log) u.setScale('y', { min: lo, max: hi });
          });
        };
        sel.addEventListener('change', drawFacets);
        app.appendChild(el('h2', { text: 'Runs side by side (same y range)' }));
        app.appendChild(el('div', { class: 'controls' }, [sel]));
        app.appendChild(grid);
        drawFacets();
      }
      window.__urlvr = { study: function () { return st; } };
    });
  }

  function route() {
    var h = location.hash.replace(/^#\/?/, '');
    var parts = h.split('/');
    var p;
    if (parts[0] === 'run' && parts[1]) p = viewRun(decodeURIComponent(parts.slice(1).join('/')));
    else if (parts[0] === 'compare' && parts[1]) p = viewCompare(parts.slice(1).join('/').split(',').map(decodeURIComponent));
    else if (parts[0] === 'study' && parts[1]) p = viewStudy(decodeURIComponent(parts.slice(1).join('/')));
    else p = viewHome();
    p.catch(function (e) { clearView(); app.appendChild(el('p', { class: 'no', text: 'Could not load: ' + e.message })); });
  }
  window.addEventListener('hashchange', route);
  if (DATA && !location.hash && DATA.start) history.replaceState(null, '', DATA.start);
  route();
})();
