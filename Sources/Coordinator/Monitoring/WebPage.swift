/// The coordinator's web page: plain HTML and a little JavaScript, compiled into the binary (no build step, no CDN,
/// no file to install: it works on an air-gapped farm). The script polls `/farm.json` (WebStatus) every second and
/// redraws the jobs table, the workers table and an inline-SVG throughput chart.
///
/// Every string from the JSON (film and worker names come from users and from the network) reaches the page through
/// `textContent` or a numeric attribute, never through `innerHTML`; the Content-Security-Policy allows only this
/// origin's script, so even a name that slipped through could not run code.
enum WebPage {
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static let html = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Lumière farm</title>
    <style>
      :root { color-scheme: light; --ink: #1d232b; --muted: #667085; --line: #d0d5dd; --accent: #2e6fdb; --bg: #f7f8fa; }
      body { font: 14px/1.4 system-ui, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); margin: 0; padding: 16px 24px; }
      header { display: flex; align-items: baseline; gap: 16px; }
      h1 { font-size: 20px; margin: 0 0 8px; }
      h2 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .05em; }
      #conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fde2e1; color: #912018; }
      #conn.live { background: #dcfae6; color: #085d3a; }
      #summary { color: var(--muted); }
      table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
      th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; }
      th { background: #eef1f5; font-weight: 600; font-size: 12px; }
      td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
      td.path { max-width: 360px; overflow: hidden; text-overflow: ellipsis; }
      .bar { display: inline-block; width: 140px; height: 10px; background: #e4e7ec; border-radius: 5px; vertical-align: middle; margin-right: 8px; overflow: hidden; }
      .bar > span { display: block; height: 100%; background: var(--accent); }
      .state-processing, .state-receiving, .state-sending { color: #085d3a; font-weight: 600; }
      .state-gone, .state-blocklisted { color: #912018; }
      .state-idle { color: var(--muted); }
      .empty { color: var(--muted); font-style: italic; }
      #chart { display: block; width: 100%; height: 240px; background: #fff; border: 1px solid var(--line); box-sizing: border-box; }
      #chart-caption { text-transform: none; letter-spacing: 0; font-weight: normal; }
      #chart .grid { stroke: #eaecf0; stroke-width: 1; }
      #chart .axis { fill: var(--muted); font-size: 11px; }
      #chart-line { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; }
      #chart-area { fill: var(--accent); fill-opacity: .12; stroke: none; }
    </style>
    </head>
    <body>
    <header><h1>Lumière farm</h1><span id="conn">connecting…</span><span id="summary"></span></header>
    <h2>Jobs</h2>
    <table id="jobs">
      <thead><tr><th>Film</th><th>Output</th><th>Model</th><th>Phase</th><th>Progress</th><th class="num">Frames</th><th class="num">fps</th><th class="num">ETA</th><th class="num">Segments</th></tr></thead>
      <tbody><tr><td class="empty" colspan="9">waiting for the coordinator…</td></tr></tbody>
    </table>
    <h2>Throughput <span id="chart-caption" class="axis"></span></h2>
    <svg id="chart" viewBox="0 0 1000 240" role="img" aria-label="output frames per second over time">
      <g id="chart-grid"></g>
      <polygon id="chart-area" points=""></polygon>
      <polyline id="chart-line" points=""></polyline>
    </svg>
    <h2>Workers</h2>
    <table id="workers">
      <thead><tr><th>Worker</th><th>Host</th><th>Device</th><th>State</th><th>Segment</th><th class="num">fps (1 min)</th><th class="num">Frames</th><th class="num">Segments</th><th class="num">Failures</th></tr></thead>
      <tbody><tr><td class="empty" colspan="9">no workers connected yet</td></tr></tbody>
    </table>
    <script src="/web.js"></script>
    </body>
    </html>
    """#

    static let script = #"""
    "use strict";
    (function () {
      const POLL_MS = 1000;
      const SVG = "http://www.w3.org/2000/svg";
      const STATES = ["idle", "receiving", "processing", "sending", "gone", "blocklisted"];
      const $ = (id) => document.getElementById(id);

      // Text only ever goes in through textContent: names from the network cannot become markup.
      function cell(text, cls) {
        const td = document.createElement("td");
        td.textContent = text === undefined || text === null ? "–" : String(text);
        if (cls) td.className = cls;
        return td;
      }
      function number(x, digits) { return typeof x === "number" && isFinite(x) ? x.toFixed(digits) : "–"; }
      function duration(s) {
        if (typeof s !== "number" || !isFinite(s) || s < 0) return "--:--";
        s = Math.round(s);
        const two = (n) => String(n).padStart(2, "0");
        return s >= 3600 ? Math.floor(s / 3600) + ":" + two(Math.floor(s / 60) % 60) + ":" + two(s % 60)
                         : Math.floor(s / 60) + ":" + two(s % 60);
      }
      function baseName(path) { const p = String(path); return p.slice(p.lastIndexOf("/") + 1) || p; }
      function emptyRow(columns, text) {
        const tr = document.createElement("tr");
        const td = cell(text, "empty");
        td.colSpan = columns;
        tr.appendChild(td);
        return tr;
      }

      function renderJobs(jobs) {
        const rows = jobs.map((j) => {
          const tr = document.createElement("tr");
          tr.className = "job";
          tr.dataset.framesDone = String(Number(j.framesDone) || 0);
          const film = cell(baseName(j.film), "path film");
          film.title = String(j.film);
          const output = cell(baseName(j.output), "path");
          output.title = String(j.output);
          const progress = document.createElement("td");
          const bar = document.createElement("span");
          bar.className = "bar";
          const fill = document.createElement("span");
          fill.style.width = Math.max(0, Math.min(100, Number(j.percent) || 0)) + "%";
          bar.appendChild(fill);
          progress.appendChild(bar);
          progress.appendChild(document.createTextNode(number(j.percent, 1) + " %"));
          const s = j.segments || {};
          tr.append(film, output, cell(j.model), cell(j.phase), progress, cell(j.framesDone + " / " + j.framesTotal, "num frames"),
                    cell(number(j.outputFPS, 1), "num"), cell(duration(j.etaSeconds), "num"),
                    cell((s.done || 0) + " / " + (s.total || 0) + (s.failed ? ", " + s.failed + " failed" : ""), "num"));
          return tr;
        });
        $("jobs").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(9, "no jobs")]));
      }

      function renderWorkers(workers) {
        const rows = workers.map((w) => {
          const tr = document.createElement("tr");
          tr.className = "worker";
          const state = STATES.includes(w.state) ? w.state : "idle";
          const segment = w.segment === null || w.segment === undefined ? "–"
            : "#" + w.segment + " (" + w.segmentFramesDone + "/" + w.segmentFramesTotal + ")";
          tr.append(cell(w.name, "name"), cell(w.host), cell(w.device), cell(w.state, "state-" + state), cell(segment),
                    cell(number(w.fpsLastMinute, 1), "num"), cell(w.framesProcessed, "num"), cell(w.segmentsCompleted, "num"),
                    cell(w.failures, "num"));
          return tr;
        });
        $("workers").tBodies[0].replaceChildren(...(rows.length ? rows : [emptyRow(9, "no workers connected yet")]));
      }

      function svg(tag, attributes, text) {
        const e = document.createElementNS(SVG, tag);
        for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
        if (text !== undefined) e.textContent = text;
        return e;
      }

      // Output frames/s over the job's time so far: x from 0 to the last point, y from 0 to a round maximum. The view
      // box takes the element's own width, so text is never stretched.
      function renderChart(points) {
        const chart = $("chart");
        const W = Math.max(300, Math.round(chart.clientWidth || 1000)), H = 240, left = 48, right = 16, top = 12, bottom = 24;
        chart.setAttribute("viewBox", "0 0 " + W + " " + H);
        const valid = points.filter((p) => isFinite(p.t) && isFinite(p.fps));
        const end = Math.max(1, ...valid.map((p) => p.t));
        const peak = Math.max(1, ...valid.map((p) => p.fps));
        // A round top (1, 2 or 5 times a power of ten) and round steps to it: 5 steps of 1, 4 of 0.5, 5 of 0.2 …
        const magnitude = Math.pow(10, Math.floor(Math.log10(peak)));
        const multiple = [1, 2, 5, 10].find((m) => m * magnitude >= peak);
        const top_ = multiple * magnitude;
        const steps = multiple === 2 ? 4 : 5;
        const x = (t) => (left + (W - left - right) * t / end).toFixed(1);
        const y = (fps) => (top + (H - top - bottom) * (1 - fps / top_)).toFixed(1);
        const grid = $("chart-grid");
        const lines = [];
        for (let i = 0; i <= steps; i++) {
          const v = top_ * i / steps;
          lines.push(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
          lines.push(svg("text", { x: left - 6, y: Number(y(v)) + 4, "text-anchor": "end", class: "axis" },
                         Number.isInteger(v) ? String(v) : v.toFixed(1)));
        }
        for (let i = 0; i <= 4; i++) {
          const anchor = i === 0 ? "start" : i === 4 ? "end" : "middle";
          lines.push(svg("text", { x: x(end * i / 4), y: H - 6, "text-anchor": anchor, class: "axis" }, duration(end * i / 4)));
        }
        grid.replaceChildren(...lines);
        const coordinates = valid.map((p) => x(p.t) + "," + y(p.fps));
        const line = $("chart-line");
        line.setAttribute("points", coordinates.join(" "));
        line.dataset.count = String(valid.length);
        $("chart-area").setAttribute("points", coordinates.length
          ? [x(valid[0].t) + "," + y(0)].concat(coordinates, [x(valid[valid.length - 1].t) + "," + y(0)]).join(" ") : "");
        $("chart-caption").textContent = valid.length
          ? "output frames/s, " + number(valid[valid.length - 1].fps, 1) + " now (10 s averages)" : "";
      }

      function render(status) {
        const jobs = Array.isArray(status.jobs) ? status.jobs : [];
        const workers = Array.isArray(status.workers) ? status.workers : [];
        renderJobs(jobs);
        renderWorkers(workers);
        renderChart(Array.isArray(status.throughput) ? status.throughput : []);
        const busy = workers.filter((w) => w.segment !== null && w.segment !== undefined).length;
        $("summary").textContent = number(status.outputFPS, 1) + " fps · " + busy + " of " + workers.length +
          " workers busy · up " + duration(status.elapsedSeconds);
      }

      async function poll() {
        const conn = $("conn");
        try {
          const response = await fetch("/farm.json", { cache: "no-store" });
          if (!response.ok) throw new Error("HTTP " + response.status);
          render(await response.json());
          conn.textContent = "live";
          conn.className = "live";
        } catch (error) {
          conn.textContent = "not reachable (" + String(error && error.message || error) + "); retrying";
          conn.className = "";
        } finally {
          setTimeout(poll, POLL_MS);
        }
      }
      poll();
    })();
    """#
}
