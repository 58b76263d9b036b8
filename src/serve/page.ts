// The explorer's page, script and style, served by the app itself (no CDN, works offline). Plain browser
// JavaScript kept as a string: the package build is tsc only, and the page needs no bundler.

export function indexHtml(): string {
  return String.raw`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>valuelens explorer</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/app.css"></head>
<body>
<header><h1>valuelens explorer</h1>
<nav><button data-view="play" class="tab">Playground</button><button data-view="runs" class="tab">Runs</button><button data-view="quant" class="tab">Quantization</button></nav>
<span id="models-state" aria-live="polite"></span></header>
<main>
<section id="view-play" class="view">
<form id="play-form" autocomplete="off">
<label>Model <select name="model"></select></label>
<label>Concept <select name="concept"></select></label>
<label>Source language <select name="source"></select></label>
<label>Layers <input name="layers" size="8" placeholder="2-3"></label>
<label>Coefficient <input name="coef" type="range" min="-40" max="40" step="0.5" value="4"><output id="coef-out">4</output></label>
<label>Scale <select name="scale"><option value="none">none</option><option value="residual">× residual norm</option></select></label>
<label>Max tokens <input name="max" type="number" min="1" max="256" value="24" size="4"></label>
<label><input name="random" type="checkbox" value="1"> same-norm random direction</label>
<label>Positive continuation <input name="pos" value=" good" size="10"></label>
<label>Negative continuation <input name="neg" value=" bad" size="10"></label>
<label class="wide">Target prompts, one per line as <code>lang: prompt</code><textarea name="targets" rows="3">en: The story of the day is</textarea></label>
<div class="buttons"><button type="submit" id="run">Generate</button><button type="button" id="stop" disabled>Stop</button><span id="play-status" aria-live="polite"></span></div>
</form>
<div id="outputs"></div>
</section>
<section id="view-runs" class="view" hidden>
<div id="runs-filters"></div>
<div id="runs-status"></div>
<div id="runs-figures"></div>
</section>
<section id="view-quant" class="view" hidden>
<div id="quant-status"></div>
<div id="quant-figures"></div>
<div id="quant-table"></div>
</section>
</main>
<script src="/vendor/vega.min.js"></script>
<script src="/app.js"></script>
</body></html>`;
}

export const APP_CSS = String.raw`
body { font: 14px/1.4 "DejaVu Sans", system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { display: flex; gap: 1.5em; align-items: center; padding: .6em 1em; background: #20324a; color: #fff; }
header h1 { font-size: 1.1em; margin: 0; }
nav .tab { background: none; color: #cfe0f5; border: 0; padding: .4em .8em; cursor: pointer; font: inherit; }
nav .tab.active { color: #fff; border-bottom: 2px solid #fff; }
main { padding: 1em; }
#play-form { display: flex; flex-wrap: wrap; gap: .6em 1.2em; align-items: end; background: #fff; padding: .8em; border: 1px solid #ddd; }
#play-form label { display: flex; flex-direction: column; font-size: .85em; color: #444; gap: .2em; }
#play-form label.wide { flex-basis: 100%; }
#runs-filters label { margin-right: .6em; font-size: .9em; white-space: nowrap; }
textarea { width: 100%; font: inherit; }
.buttons { display: flex; gap: .6em; align-items: center; }
#play-status { color: #555; }
.error { color: #a00; }
.target { background: #fff; border: 1px solid #ddd; margin-top: 1em; padding: .6em; }
.arms { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: .8em; }
.arm h4 { margin: .2em 0; font-size: .85em; color: #555; }
.arm pre { white-space: pre-wrap; word-break: break-word; min-height: 3em; background: #f4f6f8; padding: .5em; margin: 0; font: 13px/1.4 "DejaVu Sans Mono", monospace; }
table { border-collapse: collapse; margin-top: .5em; font-size: .85em; }
td, th { border: 1px solid #ddd; padding: .2em .5em; text-align: right; }
figure.fig { background: #fff; border: 1px solid #ddd; margin: 1em 0; padding: .5em; overflow-x: auto; }
figure.fig figcaption { font-size: .85em; color: #555; }
#runs-filters fieldset { display: inline-block; border: 1px solid #ddd; margin: 0 .5em .5em 0; }
`;

export const APP_JS = String.raw`
"use strict";
(function () {
  var $ = function (s) { return document.querySelector(s); };
  var info = null;
  var running = null; // AbortController of the generation in flight

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function api(path) { return fetch(path, { credentials: "same-origin", cache: "no-store" }); }

  // ---- views and URL state ------------------------------------------------------------------
  var params = new URLSearchParams(location.search);
  function currentView() { return params.get("view") || "play"; }
  function showView(v) {
    params.set("view", v);
    params.delete("token"); // the token lives in a cookie after the first load; links stay shareable
    history.replaceState(null, "", "?" + params.toString());
    document.querySelectorAll(".view").forEach(function (s) { s.hidden = s.id !== "view-" + v; });
    document.querySelectorAll(".tab").forEach(function (b) { b.classList.toggle("active", b.dataset.view === v); });
    if (v === "runs") loadRuns();
    if (v === "quant") loadQuant();
  }
  document.querySelectorAll(".tab").forEach(function (b) { b.addEventListener("click", function () { showView(b.dataset.view); }); });

  // ---- info and model state -------------------------------------------------------------------
  function fillSelect(sel, values, chosen) {
    sel.textContent = "";
    values.forEach(function (v) { var o = el("option", { value: v }, v); if (v === chosen) o.selected = true; sel.appendChild(o); });
  }
  function refreshInfo() {
    return api("/api/info").then(function (r) { return r.json(); }).then(function (j) {
      info = j;
      var loading = j.models.filter(function (m) { return m.state === "loading"; });
      var failed = j.models.filter(function (m) { return m.state === "error"; });
      $("#models-state").textContent = loading.length ? "loading " + loading.map(function (m) { return m.name; }).join(", ") + "…" :
        failed.length ? "failed: " + failed.map(function (m) { return m.name + " (" + m.error + ")"; }).join("; ") : j.models.length + " model(s) ready";
      if (loading.length) setTimeout(refreshInfo, 500);
      setupForm();
    });
  }

  // ---- playground ------------------------------------------------------------------------------
  var form = $("#play-form");
  var formReady = false;
  function modelInfo(name) { return info.models.filter(function (m) { return m.name === name; })[0]; }
  function vectorsOf(m) { return info.vectors.filter(function (v) { return m && v.name === m.vectors; })[0] || info.vectors[0]; }
  function setupForm() {
    var names = info.models.map(function (m) { return m.name; });
    var model = params.get("model") || form.model.value || names[0];
    fillSelect(form.model, names, model);
    var v = vectorsOf(modelInfo(form.model.value));
    fillSelect(form.concept, v ? v.concepts : [], params.get("concept") || form.concept.value);
    fillSelect(form.source, v ? v.langs : [], params.get("source") || form.source.value);
    if (formReady) return;
    formReady = true;
    var m = modelInfo(form.model.value);
    form.layers.value = params.get("layers") || (m && m.nLayer ? (m.nLayer > 2 ? "2-" + (m.nLayer - 1) : "1") : "1");
    ["coef", "scale", "max", "pos", "neg"].forEach(function (k) { if (params.get(k) !== null) form[k].value = params.get(k); });
    form.random.checked = params.get("random") === "1";
    var ts = params.getAll("t");
    if (ts.length) form.targets.value = ts.map(function (t) { var i = t.indexOf(":"); return t.slice(0, i) + ": " + t.slice(i + 1); }).join("\n");
    $("#coef-out").textContent = form.coef.value;
  }
  function formParams() {
    var q = new URLSearchParams();
    q.set("model", form.model.value);
    var mi = modelInfo(form.model.value);
    if (mi && mi.vectors) q.set("vectors", mi.vectors);
    ["concept", "source", "layers", "coef", "scale", "max", "pos", "neg"].forEach(function (k) { q.set(k, form[k].value); });
    if (form.random.checked) q.set("random", "1");
    form.targets.value.split("\n").map(function (l) { return l.trim(); }).filter(Boolean).forEach(function (l) {
      var i = l.indexOf(":");
      q.append("t", l.slice(0, i).trim() + ":" + l.slice(i + 1).replace(/^ /, ""));
    });
    return q;
  }
  function stop(why) {
    if (running) { running.abort(); running = null; }
    $("#run").disabled = false; $("#stop").disabled = true;
    if (why) $("#play-status").textContent = why;
  }
  form.addEventListener("input", function (e) {
    if (e.target === form.coef) $("#coef-out").textContent = form.coef.value;
    // Editing while a generation runs aborts it: what is shown always matches the controls.
    if (running) stop("stopped: settings changed");
  });
  form.model.addEventListener("change", function () { formReady = true; setupForm(); });
  $("#stop").addEventListener("click", function () { stop("stopped"); });
  form.addEventListener("submit", function (e) { e.preventDefault(); generate(); });

  var ARM_TITLES = { base: "unsteered", steer: "steered", random: "random direction (same norm)" };
  function targetBox(i, lang, prompt, arms) {
    var box = el("div", { "class": "target", "data-target": String(i) });
    box.appendChild(el("h3", null, lang + ": " + prompt));
    var grid = el("div", { "class": "arms" });
    arms.forEach(function (a) {
      var d = el("div", { "class": "arm" });
      d.appendChild(el("h4", null, ARM_TITLES[a]));
      d.appendChild(el("pre", { "data-arm": a }));
      grid.appendChild(d);
    });
    box.appendChild(grid);
    box.appendChild(el("div", { "class": "scores" }));
    return box;
  }
  function fmt(x, d) { return x === null || x === undefined || !isFinite(x) ? "–" : Number(x).toFixed(d); }
  function showScores(ev) {
    var box = document.querySelector('[data-target="' + ev.target + '"] .scores');
    var t = el("table");
    var head = el("tr");
    ["output", "tokens", "language (conf.)", "representation" + (ev.representationLayer ? " @" + ev.representationLayer : ""), "log p(pos) − log p(neg)", "shift vs unsteered"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(head);
    ev.arms.forEach(function (a) {
      var tr = el("tr", { "data-score-arm": a.arm });
      [ARM_TITLES[a.arm], String(a.nTokens), a.lang + " (" + fmt(a.langConfidence, 2) + ")", fmt(a.representation, 3), fmt(a.posMinusNeg, 3), fmt(a.logprobShift, 3)].forEach(function (c) { tr.appendChild(el("td", null, c)); });
      t.appendChild(tr);
    });
    box.textContent = "";
    box.appendChild(t);
  }
  function handle(name, ev, q) {
    var status = $("#play-status");
    if (name === "queue") status.textContent = ev.position > 0 ? "waiting in queue: position " + ev.position : "running…";
    else if (name === "plan") status.textContent = "running: layers " + ev.layers.join(", ") + ", effective coefficients " + ev.effective.map(function (x) { return fmt(x, 2); }).join(", ");
    else if (name === "token") { var pre = document.querySelector('[data-target="' + ev.target + '"] pre[data-arm="' + ev.arm + '"]'); pre.textContent += ev.text; }
    else if (name === "end") { var p2 = document.querySelector('[data-target="' + ev.target + '"] pre[data-arm="' + ev.arm + '"]'); p2.textContent = ev.text; p2.dataset.done = ev.stopReason; }
    else if (name === "scores") showScores(ev);
    else if (name === "failure") { status.textContent = "error (" + ev.code + "): " + ev.message; status.className = "error"; }
    else if (name === "done") { status.textContent = "done"; document.body.dataset.generation = "done"; }
  }
  function generate() {
    stop();
    var q = formParams();
    var shown = new URLSearchParams(q); shown.set("view", "play"); shown.delete("vectors");
    params = shown;
    history.replaceState(null, "", "?" + shown.toString());
    var arms = ["base", "steer"].concat(form.random.checked ? ["random"] : []);
    var out = $("#outputs"); out.textContent = "";
    q.getAll("t").forEach(function (t, i) { var k = t.indexOf(":"); out.appendChild(targetBox(i, t.slice(0, k), t.slice(k + 1), arms)); });
    var status = $("#play-status"); status.className = ""; status.textContent = "starting…";
    document.body.dataset.generation = "running";
    var ac = new AbortController(); running = ac;
    $("#run").disabled = true; $("#stop").disabled = false;
    fetch("/api/generate?" + q.toString(), { signal: ac.signal, credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) return r.json().then(function (j) { throw new Error((r.status === 503 ? "busy: " : "") + j.error.message); });
      var reader = r.body.getReader(); var dec = new TextDecoder(); var buf = "";
      function pump() {
        return reader.read().then(function (x) {
          if (x.done) return;
          buf += dec.decode(x.value, { stream: true });
          var i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            var block = buf.slice(0, i); buf = buf.slice(i + 2);
            var name = "message", data = "";
            block.split("\n").forEach(function (l) { if (l.indexOf("event: ") === 0) name = l.slice(7); else if (l.indexOf("data: ") === 0) data += l.slice(6); });
            handle(name, JSON.parse(data), q);
          }
          return pump();
        });
      }
      return pump();
    }).catch(function (e) {
      if (e.name === "AbortError") return;
      status.textContent = e.message; status.className = "error"; document.body.dataset.generation = "failed";
    }).then(function () { if (running === ac) { running = null; $("#run").disabled = false; $("#stop").disabled = true; } });
  }

  // ---- runs -------------------------------------------------------------------------------------
  var views = [];
  function drawFigures(container, figures, statusEl) {
    views.forEach(function (v) { v.finalize(); }); views = [];
    container.textContent = "";
    var jobs = figures.map(function (f) {
      var fig = el("figure", { "class": "fig", "data-figure": f.id });
      fig.appendChild(el("figcaption", null, f.title));
      var holder = el("div");
      fig.appendChild(holder);
      if (f.caption) fig.appendChild(el("figcaption", null, f.caption));
      container.appendChild(fig);
      var view = new vega.View(vega.parse(f.vega), { renderer: "svg", container: holder, hover: true });
      views.push(view);
      return view.runAsync();
    });
    return Promise.all(jobs).then(function () { statusEl.textContent = figures.length + " figure(s)"; document.body.dataset.figures = String(figures.length); });
  }
  var runsSetup = false;
  function runsQuery() {
    var q = new URLSearchParams();
    ["models", "concepts", "langs"].forEach(function (k) {
      var on = Array.prototype.slice.call(document.querySelectorAll('#runs-filters input[name="' + k + '"]:checked')).map(function (c) { return c.value; });
      var all = document.querySelectorAll('#runs-filters input[name="' + k + '"]').length;
      if (on.length < all) q.set(k, on.join(","));
    });
    var layer = document.querySelector('#runs-filters input[name="layer"]');
    if (layer && Number(layer.value) < Number(layer.max)) q.set("layer", layer.value);
    return q;
  }
  function loadRuns() {
    if (!info) return;
    var status = $("#runs-status");
    if (!info.runs) { status.textContent = "No run folders given: start with valuelens serve --vectors RUN_DIR."; return; }
    if (!runsSetup) {
      runsSetup = true;
      var box = $("#runs-filters");
      [["models", info.runs.models], ["concepts", info.runs.concepts], ["langs", info.runs.langs]].forEach(function (p) {
        var fs = el("fieldset"); fs.appendChild(el("legend", null, p[0]));
        p[1].forEach(function (v) { var l = el("label"); var c = el("input", { type: "checkbox", name: p[0], value: v }); c.checked = true; l.appendChild(c); l.appendChild(document.createTextNode(v)); fs.appendChild(l); });
        box.appendChild(fs);
      });
      var lf = el("fieldset"); lf.appendChild(el("legend", null, "layers up to"));
      var slider = el("input", { type: "range", name: "layer", min: "1", max: String(info.runs.maxLayer), value: String(info.runs.maxLayer) });
      var lo = el("output", null, String(info.runs.maxLayer));
      slider.addEventListener("input", function () { lo.textContent = slider.value; });
      lf.appendChild(slider); lf.appendChild(lo); box.appendChild(lf);
      box.addEventListener("change", loadRuns);
    }
    status.textContent = "drawing…";
    api("/api/runs/figures?" + runsQuery().toString()).then(function (r) { return r.json(); }).then(function (j) {
      if (j.error) throw new Error(j.error.message);
      return drawFigures($("#runs-figures"), j.figures, status);
    }).catch(function (e) { status.textContent = e.message; status.className = "error"; });
  }

  // ---- quantization -------------------------------------------------------------------------------
  function loadQuant() {
    if (!info) return;
    var status = $("#quant-status");
    if (!info.quant) { status.textContent = "Give two or more --model files (one model in several quantizations) to compare their concept vectors."; return; }
    status.textContent = "capturing the pair set with every model…";
    api("/api/quant").then(function (r) { return r.json(); }).then(function (j) {
      if (j.error) throw new Error(j.error.message);
      var t = el("table"); var h = el("tr");
      ["concept", "lang", "model", "mean cosine with " + j.reference, "best-layer accuracy", "Δ accuracy (mean over layers)"].forEach(function (x) { h.appendChild(el("th", null, x)); });
      t.appendChild(h);
      j.cells.forEach(function (c) {
        Object.keys(c.cosine).forEach(function (m) {
          var cs = c.cosine[m], acc = c.accuracy[m], ref = c.accuracy[j.reference];
          var mean = function (xs) { return xs.reduce(function (a, b) { return a + b; }, 0) / xs.length; };
          var tr = el("tr");
          [c.concept, c.lang, m, fmt(mean(cs), 3), fmt(Math.max.apply(null, acc), 2), fmt(mean(acc.map(function (a, i) { return a - ref[i]; })), 3)].forEach(function (x) { tr.appendChild(el("td", null, x)); });
          t.appendChild(tr);
        });
      });
      $("#quant-table").textContent = ""; $("#quant-table").appendChild(t);
      return drawFigures($("#quant-figures"), j.figures, status).then(function () { status.textContent = j.models.length + " models, " + j.pairsPerCell + " pairs per cell, " + fmt(j.seconds, 1) + " s" + (j.skipped.length ? "; not compared (another architecture or shape): " + j.skipped.join(", ") : ""); });
    }).catch(function (e) { status.textContent = e.message; status.className = "error"; });
  }

  refreshInfo().then(function () { showView(currentView()); }).catch(function (e) { $("#models-state").textContent = "cannot reach the server: " + e.message; });
})();
`;
