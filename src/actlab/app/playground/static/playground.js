// actlab playground: the page. Plain JavaScript and canvas; it talks only to the server that sent it.
// The configuration `cfg` mirrors the server's PlaygroundConfig; every change is sent whole over the
// websocket, and kept in the URL's fragment so a link restores the page.
"use strict";

const $ = (id) => document.getElementById(id);
const NEG = [245, 147, 34], POS = [8, 119, 189], MID = [232, 234, 235];
let catalog = null, cfg = null, ws = null, playing = false, latest = null, drawn = true;
let data = null, curve = [], lastEpoch = -1, formulaTimers = {};
const layerState = [];  // per hidden layer: {mode: "catalog" | "formula", text, valid}

// ---------- start ----------
async function start() {
  catalog = await (await fetch("/api/catalog")).json();
  cfg = Object.assign({}, catalog.defaults, fromUrl());
  fill("dataset", catalog.datasets); fill("optimizer", catalog.optimizers); fill("loss", catalog.losses);
  fill("reg", catalog.regularizations); fill("init", catalog.inits);
  for (const f of catalog.features) {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" name="feature" value="${f}"> ${f.replace("_", " ")}`;
    $("features").appendChild(label);
  }
  cfg.activations.forEach((a) => layerState.push(stateOf(a)));
  bindControls();
  showConfig();
  connect();
  requestAnimationFrame(render);
}

function fromUrl() {
  if (location.hash.length < 2) return {};
  try { const v = JSON.parse(decodeURIComponent(location.hash.slice(1))); return typeof v === "object" && v ? v : {}; }
  catch (e) { return {}; }
}

function stateOf(spec) {
  return spec.startsWith("expr:") ? {mode: "formula", text: spec.slice(5), valid: true}
                                  : {mode: "catalog", text: "", valid: true};
}

const LABELS = {sgd: "SGD", momentum: "SGD + momentum", adam: "Adam", rmsprop: "RMSprop", cross_entropy: "cross-entropy",
                squared: "squared error", none: "none", l1: "L1", l2: "L2", torch: "torch default", he: "He",
                lecun: "LeCun", chaos: "edge of chaos", cos_wave: "cos wave"};

function fill(id, values) {
  $(id).innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option"); o.value = v; o.textContent = LABELS[v] || v; $(id).appendChild(o);
  }
}

// ---------- the websocket ----------
function connect() {
  ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  ws.binaryType = "arraybuffer";
  ws.onopen = () => { send({type: "config", config: cfg}); };
  ws.onclose = () => { status("disconnected from the server (is actlab playground still running?)"); setPlaying(false); };
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") return onText(JSON.parse(ev.data));
    latest = decode(ev.data); drawn = false;
  };
}

function send(msg) { if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg)); }

function onText(msg) {
  if (msg.type === "data") { data = msg; drawn = false; }
  else if (msg.type === "state") {
    setPlaying(msg.playing);
    if (msg.config) { status(""); }
  } else if (msg.type === "error") { status(msg.message); setPlaying(false); }
  else if (msg.type === "note") { $("note").textContent = msg.message; }
  else if (msg.type === "weights") {
    const bytes = Uint8Array.from(atob(msg.base64), (c) => c.charCodeAt(0));
    download(new Blob([bytes], {type: "application/octet-stream"}), msg.filename);
  }
}

function decode(buf) {
  const n = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const arrays = {};
  for (const [name, [offset, shape]] of Object.entries(header.arrays)) {
    arrays[name] = {shape, values: new Float32Array(buf, 4 + n + 4 * offset, shape.reduce((a, b) => a * b, 1))};
  }
  return {header, arrays};
}

function status(text) { $("status").textContent = text; }

function setPlaying(p) { playing = p; $("play").textContent = p ? "⏸" : "▶"; $("play").disabled = !allValid(); }

function allValid() { return layerState.every((l) => l.valid); }

// ---------- controls ----------
function changed() {  // the page's configuration changed: tell the server, keep it in the URL
  $("note").textContent = "";
  history.replaceState(null, "", "#" + encodeURIComponent(JSON.stringify(cfg)));
  if (allValid()) send({type: "config", config: cfg});
  else if (playing) send({type: "pause"});
  $("play").disabled = !allValid();
}

function bindControls() {
  $("play").onclick = () => send({type: playing ? "pause" : "play"});
  $("step").onclick = () => send({type: "step"});
  $("reset").onclick = () => { curve = []; send({type: "reset"}); };
  $("regenerate").onclick = () => { cfg.data_seed = (cfg.data_seed + 1) % 2147483648; changed(); };
  for (const [id, key, parse] of [["dataset", "dataset", String], ["optimizer", "optimizer", String],
       ["loss", "loss", String], ["reg", "reg", String], ["init", "init", String], ["noise", "noise", Number],
       ["train-share", "train_share", Number], ["points", "points", Number], ["lr", "lr", Number],
       ["batch", "batch", Number], ["reg-rate", "reg_rate", Number], ["seed", "seed", Number],
       ["seeds", "seeds", Number], ["target", "target", Number]]) {
    $(id).addEventListener("change", () => {
      const v = parse($(id).value);
      if (typeof v === "number" && !Number.isFinite(v)) return;
      cfg[key] = v; if (key === "seeds" || key === "seed") curve = [];
      showValues(); changed();
    });
  }
  $("features").addEventListener("change", () => {
    cfg.features = [...document.querySelectorAll("input[name=feature]:checked")].map((e) => e.value);
    changed();
  });
  $("show-test").onchange = $("discretize").onchange = () => { drawn = false; };
  $("add-layer").onclick = () => {
    cfg.widths.push(2); cfg.activations.push(cfg.activations[cfg.activations.length - 1] || "tanh");
    layerState.push(stateOf(cfg.activations[cfg.activations.length - 1])); showLayers(); changed();
  };
  $("remove-layer").onclick = () => {
    if (!cfg.widths.length) return;
    cfg.widths.pop(); cfg.activations.pop(); layerState.pop(); showLayers(); changed();
  };
  $("link").onclick = async () => {
    try { await navigator.clipboard.writeText(location.href); status(""); } catch (e) { status("copy this page's address: it restores the page"); }
  };
  $("export").onclick = exportPreset;
  $("weights").onclick = () => send({type: "weights"});
  dragToTurn();
  $("versus").addEventListener("input", () => {
    clearTimeout(formulaTimers.versus); formulaTimers.versus = setTimeout(checkVersus, 250);
  });
}

function showValues() {
  $("noise-value").textContent = cfg.noise; $("train-share-value").textContent = Math.round(cfg.train_share * 100) + " %";
}

function showConfig() {
  for (const [id, key] of [["dataset", "dataset"], ["optimizer", "optimizer"], ["loss", "loss"], ["reg", "reg"],
       ["init", "init"], ["noise", "noise"], ["train-share", "train_share"], ["points", "points"], ["lr", "lr"],
       ["batch", "batch"], ["reg-rate", "reg_rate"], ["seed", "seed"], ["seeds", "seeds"], ["target", "target"]]) {
    $(id).value = cfg[key];
  }
  $("versus").value = cfg.versus.startsWith("expr:") ? cfg.versus.slice(5) : cfg.versus;
  document.querySelectorAll("input[name=feature]").forEach((e) => { e.checked = cfg.features.includes(e.value); });
  showValues(); showLayers();
}

function showLayers() {
  $("layer-count").textContent = `${cfg.widths.length} hidden layer${cfg.widths.length === 1 ? "" : "s"}`;
  const box = $("layers"); box.innerHTML = "";
  cfg.widths.forEach((w, i) => {
    const st = layerState[i];
    const card = document.createElement("div"); card.className = "layer"; card.dataset.layer = i;
    card.innerHTML = `<div class="head"><button class="add-neuron" title="Add a neuron">+</button>
      <button class="remove-neuron" title="Remove a neuron">−</button>
      <span class="width">${w} neuron${w === 1 ? "" : "s"}</span>
      <select class="act-select" title="This layer's activation"></select></div>
      <input class="act-formula" type="text" spellcheck="false" placeholder="a formula in x, e.g. x*tanh(softplus(x))">
      <div class="act-message"></div><div class="act-summary"></div><div class="thumbs"></div>`;
    const select = card.querySelector(".act-select");
    for (const name of [...catalog.activations, "formula…"]) {
      const o = document.createElement("option"); o.value = name === "formula…" ? "" : name; o.textContent = name;
      select.appendChild(o);
    }
    const spec = cfg.activations[i];
    if (st.mode === "catalog" && !catalog.activations.includes(spec)) {  // a spec with arguments, from a link
      const o = document.createElement("option"); o.value = spec; o.textContent = spec; select.prepend(o);
    }
    select.value = st.mode === "formula" ? "" : spec;
    const formula = card.querySelector(".act-formula");
    formula.value = st.text; formula.hidden = st.mode !== "formula";
    select.onchange = () => {
      if (select.value === "") { st.mode = "formula"; formula.hidden = false; formula.focus(); checkFormula(i, card); return; }
      st.mode = "catalog"; st.valid = true; formula.hidden = true; formula.classList.remove("invalid");
      card.querySelector(".act-message").textContent = "";
      cfg.activations[i] = select.value; summarize(i, card, select.value); changed();
    };
    formula.oninput = () => { st.text = formula.value; clearTimeout(formulaTimers[i]); formulaTimers[i] = setTimeout(() => checkFormula(i, card), 200); };
    card.querySelector(".add-neuron").onclick = () => { if (cfg.widths[i] < catalog.bounds.neurons[1]) { cfg.widths[i]++; showLayers(); changed(); } };
    card.querySelector(".remove-neuron").onclick = () => { if (cfg.widths[i] > 1) { cfg.widths[i]--; showLayers(); changed(); } };
    box.appendChild(card);
    if (st.mode === "formula" && !st.valid) checkFormula(i, card); else summarize(i, card, cfg.activations[i]);
  });
}

async function verdict(spec) {
  return (await fetch("/api/activation?spec=" + encodeURIComponent(spec))).json();
}

async function summarize(i, card, spec) {
  const box = card.querySelector(".act-summary"); box.textContent = "analysing…";
  const v = await verdict(spec);
  if (cfg.activations[i] !== spec) return;
  box.textContent = v.ok ? v.summary : ""; card.querySelector(".act-message").textContent = v.ok ? "" : v.message;
}

async function checkFormula(i, card) {  // validated as you type, by the server's own parser
  const st = layerState[i], text = st.text.trim(), input = card.querySelector(".act-formula");
  const spec = "expr:" + text;
  const v = text ? await verdict(spec) : {ok: false, message: "type a formula in x"};
  if (layerState[i] !== st || st.text.trim() !== text) return;  // typed on meanwhile
  st.valid = v.ok; input.classList.toggle("invalid", !v.ok);
  card.querySelector(".act-message").textContent = v.ok ? "" : v.message;
  card.querySelector(".act-summary").textContent = v.ok ? v.summary : "";
  if (v.ok) cfg.activations[i] = spec;
  changed();
}

async function checkVersus() {  // side by side: a name, a spec or a formula, checked by the server
  const text = $("versus").value.trim();
  let spec = "", v = {ok: true};
  if (text) {
    v = await verdict(text);
    if (!v.ok && !text.startsWith("expr:")) { const f = await verdict("expr:" + text); if (f.ok) v = f; }
    spec = v.spec;
  }
  if ($("versus").value.trim() !== text) return;  // typed on meanwhile
  $("versus-message").textContent = v.ok ? (v.summary || "") : v.message;
  $("versus-message").className = v.ok ? "act-summary" : "act-message";
  if (v.ok && spec !== cfg.versus) { cfg.versus = spec; curve = []; changed(); }
}

async function exportPreset() {
  const r = await fetch("/api/preset", {method: "POST", headers: {"Content-Type": "application/json"},
                                         body: JSON.stringify({config: cfg, epochs: Math.max(0, lastEpoch)})});
  if (!r.ok) { status((await r.json()).message); return; }
  download(new Blob([await r.text()], {type: "application/toml"}), "playground-planar.toml");
}

function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a"); a.href = url; a.download = filename; a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------- drawing ----------
function color(v, discrete) {
  if (!Number.isFinite(v)) return [0, 0, 0];
  if (discrete) v = v > 0 ? 1 : -1;
  const t = Math.min(1, Math.abs(v)), end = v > 0 ? POS : NEG;
  return [0, 1, 2].map((k) => Math.round(MID[k] + (end[k] - MID[k]) * t * 0.8));
}

function paint(canvas, values, offset, side, discrete, scale) {
  const ctx = canvas.getContext("2d"), img = ctx.createImageData(side, side);
  for (let p = 0; p < side * side; p++) {
    const c = color(values[offset + p] / scale, discrete);
    img.data[4 * p] = c[0]; img.data[4 * p + 1] = c[1]; img.data[4 * p + 2] = c[2]; img.data[4 * p + 3] = 255;
  }
  if (canvas.width === side) { ctx.putImageData(img, 0, 0); return; }
  const off = document.createElement("canvas"); off.width = off.height = side;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function drawPoints(canvas) {
  if (!data) return;
  const ctx = canvas.getContext("2d"), [hx, hy] = data.extent, W = canvas.width, H = canvas.height;
  const showTest = $("show-test").checked;
  for (let k = 0; k < data.y.length; k++) {
    const test = k >= data.n_train;
    if (test && !showTest) continue;
    const [x1, x2] = data.x[k];
    const px = (x1 + hx) / (2 * hx) * W, py = (hy - x2) / (2 * hy) * H;
    ctx.beginPath(); ctx.arc(px, py, 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${(data.y[k] ? POS : NEG).join(",")})`; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = test ? "#000" : "#fff"; ctx.stroke();
  }
}

function drawCurve() {
  const c = $("curve"), ctx = c.getContext("2d"), W = c.width, H = c.height;
  ctx.clearRect(0, 0, W, H);
  if (curve.length < 2) return;
  const top = Math.max(1e-9, ...curve.map((p) => Math.max(p[1], p[2])).filter(Number.isFinite));
  const last = curve[curve.length - 1][0], first = curve[0][0], span = Math.max(1, last - first);
  for (const [k, style] of [[2, "#000"], [1, "#999"]]) {
    ctx.beginPath(); ctx.strokeStyle = style; ctx.lineWidth = 1.5;
    curve.forEach((p, j) => {
      const x = (p[0] - first) / span * (W - 4) + 2, y = H - 2 - Math.min(1, p[k] / top) * (H - 4);
      j ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}

function mean(a) { let s = 0; for (const v of a) s += v; return s / a.length; }

function render() {
  requestAnimationFrame(render);
  if (drawn || !latest) return;
  drawn = true;
  const {header, arrays} = latest, discrete = $("discretize").checked;
  if (header.epoch < lastEpoch || (header.epoch === 0)) curve = [];
  lastEpoch = header.epoch;
  $("epoch").textContent = String(header.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
  const trainLoss = mean(arrays.train_loss.values), testLoss = mean(arrays.test_loss.values);
  if (!curve.length || curve[curve.length - 1][0] !== header.epoch) curve.push([header.epoch, trainLoss, testLoss]);
  if (curve.length > 2000) curve = curve.filter((_, j) => j % 2 === 0);
  $("loss-train").textContent = trainLoss.toFixed(3); $("loss-test").textContent = testLoss.toFixed(3);
  $("acc-test").textContent = (100 * mean(arrays.test_acc.values)).toFixed(1) + " %";
  drawCurve();
  const side = header.side, heat = $("heatmap");
  paint(heat, arrays.map.values, 0, side, discrete, 1); drawPoints(heat);
  drawVersus(header, arrays, discrete);
  drawNeurons(arrays.neurons);
  drawNetwork(header.weights);
  drawSpace(arrays.space, header.space_line);
  drawSeeds(header, arrays, discrete);
  heat.dataset.epoch = header.epoch;
}

function drawNeurons(neurons) {
  const cards = document.querySelectorAll(".layer");
  let k = 0;
  cards.forEach((card, i) => {
    const box = card.querySelector(".thumbs"), w = cfg.widths[i];
    if (!neurons) { box.innerHTML = ""; return; }
    while (box.children.length < w) { const c = document.createElement("canvas"); box.appendChild(c); }
    while (box.children.length > w) box.lastChild.remove();
    const side = neurons.shape[1], size = side * side;
    [...box.children].forEach((c) => {
      c.width = c.height = side;
      if (k >= neurons.shape[0]) return;
      let m = 1e-9; for (let p = 0; p < size; p++) m = Math.max(m, Math.abs(neurons.values[k * size + p]) || 0);
      paint(c, neurons.values, k * size, side, false, m); c.title = `layer ${i + 1}, neuron ${k + 1} (scaled by ${m.toPrecision(3)})`;
      k++;
    });
  });
}

function drawVersus(header, arrays, discrete) {
  $("versus-box").hidden = !header.versus;
  if (!header.versus) return;
  $("versus-name").textContent = header.versus;
  $("loss-train-b").textContent = mean(arrays.train_loss_b.values).toFixed(3);
  $("loss-test-b").textContent = mean(arrays.test_loss_b.values).toFixed(3);
  $("acc-test-b").textContent = (100 * mean(arrays.test_acc_b.values)).toFixed(1) + " %";
  const heat = $("heatmap-b");
  paint(heat, arrays.map_b.values, 0, header.side, discrete, 1); drawPoints(heat);
}

function drawNetwork(weights) {  // the first seed's links: width |w|, colour its sign
  const c = $("network"), ctx = c.getContext("2d"), W = c.width, H = c.height;
  ctx.clearRect(0, 0, W, H);
  c.hidden = !weights;
  if (!weights) return;
  const sizes = [weights[0][0].length, ...weights.map((m) => m.length)];
  const x = (l) => 12 + l * (W - 24) / (sizes.length - 1);
  const y = (l, k) => H / 2 + (k - (sizes[l] - 1) / 2) * Math.min(14, (H - 12) / Math.max(1, sizes[l] - 1));
  weights.forEach((m, l) => m.forEach((row, j) => row.forEach((w, i) => {
    ctx.beginPath(); ctx.moveTo(x(l), y(l, i)); ctx.lineTo(x(l + 1), y(l + 1, j));
    ctx.lineWidth = Math.min(5, 0.3 + 1.5 * Math.abs(w)); ctx.strokeStyle = `rgba(${(w > 0 ? POS : NEG).join(",")},0.75)`;
    ctx.stroke();
  })));
  sizes.forEach((n, l) => { for (let k = 0; k < n; k++) {
    ctx.beginPath(); ctx.arc(x(l), y(l, k), 4, 0, 2 * Math.PI); ctx.fillStyle = "#fff"; ctx.fill();
    ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.stroke();
  } });
}

function drawSpace(space, line) {  // the feature space: the last hidden layer's 2 outputs, and w·h + b = 0
  $("space-box").hidden = !space;
  if (!space || !data) return;
  if (space.shape[1] === 3) { lastSpace = [space, line]; drawSpace3(space, line); return; }
  const c = $("space"), ctx = c.getContext("2d"), W = c.width, H = c.height, v = space.values, n = space.shape[0];
  let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
  for (let k = 0; k < n; k++) for (const d of [0, 1]) {
    const u = v[2 * k + d]; if (Number.isFinite(u)) { lo[d] = Math.min(lo[d], u); hi[d] = Math.max(hi[d], u); }
  }
  if (!Number.isFinite(lo[0])) { ctx.clearRect(0, 0, W, H); return; }
  for (const d of [0, 1]) { const pad = 0.1 * (hi[d] - lo[d] || 1); lo[d] -= pad; hi[d] += pad; }
  const side = 160, img = ctx.createImageData(side, side), [w1, w2, b] = line;
  for (let r = 0; r < side; r++) for (let q = 0; q < side; q++) {
    const h1 = lo[0] + (q + 0.5) / side * (hi[0] - lo[0]), h2 = hi[1] - (r + 0.5) / side * (hi[1] - lo[1]);
    const col = color(w1 * h1 + w2 * h2 + b > 0 ? 0.5 : -0.5, false), p = 4 * (r * side + q);
    img.data[p] = col[0]; img.data[p + 1] = col[1]; img.data[p + 2] = col[2]; img.data[p + 3] = 255;
  }
  const off = document.createElement("canvas"); off.width = off.height = side;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false; ctx.drawImage(off, 0, 0, W, H);
  const showTest = $("show-test").checked;
  for (let k = 0; k < n; k++) {
    if (k >= data.n_train && !showTest) continue;
    const px = (v[2 * k] - lo[0]) / (hi[0] - lo[0]) * W, py = (hi[1] - v[2 * k + 1]) / (hi[1] - lo[1]) * H;
    ctx.beginPath(); ctx.arc(px, py, 3, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${(data.y[k] ? POS : NEG).join(",")})`; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = k >= data.n_train ? "#000" : "#fff"; ctx.stroke();
  }
}

// a last hidden layer of 3: the points in its cube (each axis scaled to the points' range), seen from a
// direction you change by dragging, and the output's separating plane w·h + b = 0 cut to the cube
let view = {yaw: -0.6, pitch: 0.45}, lastSpace = null;

function drawSpace3(space, line) {
  const c = $("space"), ctx = c.getContext("2d"), W = c.width, H = c.height, v = space.values, n = space.shape[0];
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let k = 0; k < n; k++) for (let d = 0; d < 3; d++) {
    const u = v[3 * k + d]; if (Number.isFinite(u)) { lo[d] = Math.min(lo[d], u); hi[d] = Math.max(hi[d], u); }
  }
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
  if (!Number.isFinite(lo[0])) return;
  const mid = [0, 1, 2].map((d) => (lo[d] + hi[d]) / 2), half = [0, 1, 2].map((d) => (hi[d] - lo[d]) / 2 || 1);
  const [cy, sy, cp, sp] = [Math.cos(view.yaw), Math.sin(view.yaw), Math.cos(view.pitch), Math.sin(view.pitch)];
  const screen = ([a, b, z]) => {  // normalised cube coordinates → canvas
    const u = a * cy - b * sy, depth = a * sy + b * cy;
    return [W / 2 + u * W * 0.3, H / 2 - (z * cp - depth * sp) * H * 0.3];
  };
  const corners = [];
  for (const a of [-1, 1]) for (const b of [-1, 1]) for (const z of [-1, 1]) corners.push([a, b, z]);
  const edges = [];
  corners.forEach((p, i) => corners.forEach((q, j) => {
    if (j > i && p.filter((x, d) => x !== q[d]).length === 1) edges.push([p, q]);
  }));
  ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1;
  for (const [p, q] of edges) {
    const [x1, y1] = screen(p), [x2, y2] = screen(q);
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
  }
  // the plane in normalised coordinates: Σ w_d·half_d·n_d + (b + Σ w_d·mid_d) = 0, cut by the cube's edges
  const wn = [0, 1, 2].map((d) => line[d] * half[d]), bn = line[3] + [0, 1, 2].reduce((s, d) => s + line[d] * mid[d], 0);
  const f = (p) => wn[0] * p[0] + wn[1] * p[1] + wn[2] * p[2] + bn;
  const cut = [];
  for (const [p, q] of edges) {
    const fp = f(p), fq = f(q);
    if ((fp < 0) !== (fq < 0)) { const t = fp / (fp - fq); cut.push(screen(p.map((x, d) => x + t * (q[d] - x)))); }
  }
  if (cut.length >= 3) {
    const cx = cut.reduce((s, p) => s + p[0], 0) / cut.length, cyy = cut.reduce((s, p) => s + p[1], 0) / cut.length;
    cut.sort((p, q) => Math.atan2(p[1] - cyy, p[0] - cx) - Math.atan2(q[1] - cyy, q[0] - cx));
    ctx.beginPath(); cut.forEach(([x, y], j) => (j ? ctx.lineTo(x, y) : ctx.moveTo(x, y))); ctx.closePath();
    ctx.fillStyle = "rgba(120,120,120,0.25)"; ctx.fill(); ctx.strokeStyle = "#666"; ctx.stroke();
  }
  const showTest = $("show-test").checked;
  for (let k = 0; k < n; k++) {
    if (k >= data.n_train && !showTest) continue;
    const [px, py] = screen([0, 1, 2].map((d) => (v[3 * k + d] - mid[d]) / half[d]));
    ctx.beginPath(); ctx.arc(px, py, 2.6, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${(data.y[k] ? POS : NEG).join(",")})`; ctx.fill();
    ctx.lineWidth = 0.8; ctx.strokeStyle = k >= data.n_train ? "#000" : "#fff"; ctx.stroke();
  }
}

function dragToTurn() {
  let from = null;
  $("space").addEventListener("pointerdown", (e) => { from = [e.clientX, e.clientY]; });
  window.addEventListener("pointerup", () => { from = null; });
  $("space").addEventListener("pointermove", (e) => {
    if (!from || !lastSpace) return;
    view.yaw += (e.clientX - from[0]) * 0.01;
    view.pitch = Math.max(-1.5, Math.min(1.5, view.pitch + (e.clientY - from[1]) * 0.01));
    from = [e.clientX, e.clientY]; drawSpace3(...lastSpace);
  });
}

function drawSeeds(header, arrays, discrete) {
  const grid = $("seed-grid"), S = header.seeds;
  if (S === 1) { grid.innerHTML = ""; $("share").textContent = ""; return; }
  while (grid.children.length < S) {
    const f = document.createElement("figure"); f.innerHTML = "<canvas></canvas><figcaption></figcaption>"; grid.appendChild(f);
  }
  while (grid.children.length > S) grid.lastChild.remove();
  const side = header.side, acc = arrays.test_acc.values;
  let reached = 0;
  [...grid.children].forEach((f, s) => {
    const c = f.querySelector("canvas"); c.width = c.height = side;
    paint(c, arrays.map.values, s * side * side, side, discrete, 1);
    const ok = acc[s] >= cfg.target; reached += ok;
    c.classList.toggle("reached", ok);
    f.querySelector("figcaption").textContent = `seed ${cfg.seed + s} · ${(100 * acc[s]).toFixed(0)} %`;
  });
  $("share").textContent = `${reached} of ${S} seeds (${Math.round(100 * reached / S)} %) reach it`;
}

start().catch((e) => status("the page could not start: " + e));
