// Supervisor dashboard: live status + charts over /api/stream (server-sent events), control
// buttons as authenticated POSTs. The token comes from /?token=... once, then sessionStorage.
"use strict";

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = "rlif.supervisor.token";
const state = { rows: [], status: null, cameraSeq: -1, window: 20 };

(function takeTokenFromUrl() {
  const url = new URL(window.location.href);
  const t = url.searchParams.get("token");
  if (t) {
    sessionStorage.setItem(TOKEN_KEY, t);
    url.searchParams.delete("token");
    history.replaceState(null, "", url.pathname + url.search + url.hash);  // keep it out of history
  }
})();

const charts = {
  success: new LineChart($("chart-success"), { yMin: 0, yMax: 1 }),
  interv: new LineChart($("chart-interv"), { yMin: 0, yMax: 1 }),
  length: new LineChart($("chart-length"), { digits: 0 }),
  updates: new LineChart($("chart-updates"), { digits: 1 }),
};

function say(text) { $("message").textContent = text; }
const pct = (x) => (x === null || x === undefined) ? "–" : (100 * x).toFixed(0) + " %";

async function post(path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) { $("token-form").hidden = false; say("a token is needed for this: paste it or open the link printed at start-up"); return; }
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Authorization": "Bearer " + token, "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (r.status === 401) { $("token-form").hidden = false; say("token rejected: " + (j.detail || "")); return; }
    if (!r.ok) { say(`${path}: ${r.status} ${j.detail || ""}`); return; }
    say("");
    if (j.status) renderStatus(j.status);
  } catch (e) { say(`${path}: ${e}`); }
}

$("btn-estop").onclick = () => post("/api/estop", { reason: "dashboard e-stop" });
$("btn-clear").onclick = () => { if (confirm("Clear the e-stop? The cell may move again.")) post("/api/estop/clear"); };
$("btn-start").onclick = () => post("/api/episode/start");
$("btn-success").onclick = () => post("/api/episode/success");
$("btn-abort").onclick = () => post("/api/episode/abort", { reason: "dashboard abort" });
$("btn-recover").onclick = () => {
  if (confirm("Recover the arm? Clear the cause of the reflex first; the controllers come back on and the cell resets.")) {
    post("/api/robot/recover");
  }
};
$("btn-pause").onclick = () => post("/api/training/pause");
$("btn-resume").onclick = () => post("/api/training/resume");
$("token-form").onsubmit = (ev) => {
  ev.preventDefault();
  const t = $("token-input").value.trim();
  if (t) { sessionStorage.setItem(TOKEN_KEY, t); $("token-form").hidden = true; say("token set"); }
};
document.addEventListener("keydown", (ev) => {  // Escape = e-stop, like the big button
  if (ev.key === "Escape") post("/api/estop", { reason: "dashboard e-stop (Escape key)" });
});

function renderStatus(s) {
  state.status = s;
  state.window = s.window || state.window;
  const d = $("drives");
  d.className = "drives " + s.drives; d.dataset.drives = s.drives; d.textContent = s.drives.toUpperCase();
  $("episode").textContent = "episode " + (s.episode ?? "–");
  $("step").textContent = "step " + (s.step ?? "–");
  $("estop-banner").hidden = !s.estop;
  document.body.dataset.estop = String(s.estop);
  $("btn-clear").disabled = !s.estop || s.read_only;
  for (const id of ["btn-estop", "btn-start", "btn-success", "btn-abort", "btn-pause", "btn-resume", "btn-recover"]) $(id).disabled = s.read_only;
  $("btn-recover").hidden = !("franka_bridge" in s.nodes);  // the real arm (or the twin in franka mode) only
  $("btn-pause").hidden = s.paused; $("btn-resume").hidden = !s.paused;
  $("t-auto").textContent = pct(s.autonomous_success_rate);
  $("t-success").textContent = pct(s.success_rate);
  $("t-interv").textContent = pct(s.intervention_rate);
  $("t-updates").textContent = (s.updates_per_s ?? 0).toFixed(1);
  $("t-version").textContent = s.policy_version ?? "–";
  $("t-episodes").textContent = s.episodes;
  $("t-paused").textContent = s.paused ? "paused" : "running";
  $("mode").textContent = s.read_only ? "read-only (browsing a run)" : "live";
  $("nodes").replaceChildren(...Object.entries(s.nodes).map(([name, n]) => {
    const li = document.createElement("li");
    li.className = n.healthy ? "" : "dead";
    li.textContent = `${name} (${n.age_s.toFixed(1)} s)`;
    return li;
  }));
  $("events").replaceChildren(...s.events.slice(0, 30).map((e) => {
    const li = document.createElement("li");
    li.className = e.kind;
    li.textContent = `${e.kind} ${JSON.stringify(e.data)} · ${e.age_s.toFixed(0)} s ago`;
    return li;
  }));
  if (s.camera && s.camera.seq !== state.cameraSeq) {
    state.cameraSeq = s.camera.seq;
    $("camera").src = "/api/camera.jpg?seq=" + s.camera.seq;
    $("camera").hidden = false; $("camera-none").hidden = true;
  }
}

function renderCharts() {
  const rows = state.rows, xs = rows.map((r) => r.episode);
  const autoSuccess = rows.map((r) => (r.success && r.autonomous) ? 1 : 0);
  const interv = rows.map((r) => r.intervention_rate ?? NaN);
  charts.success.setSeries([
    { xs, ys: rolling(autoSuccess, state.window), color: "#3fb950" },
    { xs, ys: rolling(rows.map((r) => r.success ? 1 : 0), state.window), color: "#58a6ff", width: 1 },
  ]);
  charts.interv.setSeries([
    { xs, ys: rolling(interv.map((y) => Number.isFinite(y) ? y : 0), state.window), color: "#f0883e" },
    { xs, ys: interv, color: "#6e7681", width: 1, dots: true },
  ]);
  charts.length.setSeries([{ xs, ys: rows.map((r) => r.length ?? NaN), color: "#58a6ff", width: 1, dots: true }]);
  charts.updates.setSeries([{ xs, ys: rows.map((r) => r.updates_per_s ?? NaN), color: "#d2a8ff" }]);
}

let redraw = null;
function connect() {
  const es = new EventSource("/api/stream");
  es.onopen = () => { $("conn").className = "conn up"; $("conn").textContent = "live"; };
  es.onerror = () => { $("conn").className = "conn down"; $("conn").textContent = "reconnecting"; };
  es.addEventListener("status", (ev) => renderStatus(JSON.parse(ev.data)));
  es.addEventListener("metrics", (ev) => {
    state.rows.push(...JSON.parse(ev.data).rows);
    if (!redraw) redraw = setTimeout(() => { redraw = null; renderCharts(); }, 100);
  });
}

async function loadVideos() {  // the latest episode videos (train.video_every), newest first
  try {
    const r = await fetch("/api/videos");
    if (!r.ok) return;
    const vids = (await r.json()).videos;
    if (!vids.length) return;
    $("videos").replaceChildren(...vids.map((v) => {
      const li = document.createElement("li"), a = document.createElement("a");
      a.href = v.url; a.target = "_blank"; a.textContent = `episode ${v.episode}`;
      li.append(a);
      return li;
    }));
  } catch (e) { /* the next poll tries again */ }
}

renderCharts();
connect();
loadVideos();
setInterval(loadVideos, 10000);
