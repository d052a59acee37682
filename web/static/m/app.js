// The grid worker's app: sign in once, report, verify and check on site, see his grids.
// Everything he makes goes to the outbox (queue.js) first and is sent from there (send.js).
import * as queue from "./queue.js";
import { sendAll, wake } from "./send.js";
import { scaled } from "./photos.js";
import { gridAt, metres } from "./geo.js";

const $ = (id) => document.getElementById(id);
const TOKEN = "gridcase.token";
const USER = "gridcase.user";
const VIEWS = ["report", "tasks", "outbox", "cases", "me"];
const LIGHTS = { green: "#1e7b34", yellow: "#b58100", red: "#c62828" };
const STATUS = { waiting: "等待发送", sending: "发送中", sent: "已发送", refused: "被退回" };
const KIND = { report: "上报", verify: "核实", check: "核查" };

const state = { data: null, fix: null, point: null, tasks: [], editing: null, step: null, photos: {}, stepPhotos: {} };
let maps = {};
let retryTimer = null;

const token = () => localStorage.getItem(TOKEN);

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${token()}` } });
  if (response.status === 401) { signedOut(); throw new Error("signed out"); }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const answer = await response.json();
  // The service worker's last good copy, when the network is gone.
  if (answer && typeof answer === "object") answer.cached = response.headers.get("X-Gridcase-Cached");
  return answer;
}

// --- network status and sending -------------------------------------------------------
function showNet() {
  $("net").textContent = navigator.onLine ? "在线" : "离线：保存在本机，联网后自动发送";
  $("net").className = navigator.onLine ? "net on" : "net off";
}

async function send() {
  if (!token()) return;
  clearTimeout(retryTimer);
  const next = await sendAll(token(), renderOutbox);
  await renderOutbox();
  if (next) retryTimer = setTimeout(send, Math.max(200, next - Date.now()));
}

window.addEventListener("online", async () => { showNet(); await wake(); send(); });
window.addEventListener("offline", showNet);

// --- views ----------------------------------------------------------------------------
function show(view) {
  const signed = Boolean(token());
  $("signin").hidden = signed;
  document.querySelector(".tabs").hidden = !signed;
  for (const v of VIEWS) $(v).hidden = !signed || v !== view;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.getAttribute("href") === `#${view}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!signed) return;
  if (view === "report") reportMap();
  if (view === "tasks") loadTasks();
  if (view === "outbox") renderOutbox();
  if (view === "cases") casesMap();
  if (view === "me") $("me-who").textContent = `${user().name}（${user().id}），负责网格 ${user().units.join("、")}`;
}

function route() {
  const view = location.hash.slice(1);
  show(VIEWS.includes(view) ? view : "report");
}
window.addEventListener("hashchange", route);

const user = () => JSON.parse(localStorage.getItem(USER) || "{}");

// --- signing in and out ---------------------------------------------------------------
$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("signin-error").textContent = "";
  let response;
  try {
    response = await fetch("/m/api/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: $("user_id").value.trim(), password: $("password").value }),
    });
  } catch (_) {
    $("signin-error").textContent = "无法连接服务器：首次登录需要网络。";
    return;
  }
  const answer = await response.json();
  if (!response.ok) {
    const left = answer.remaining != null ? `（还可尝试 ${answer.remaining} 次）` : "";
    const words = { wrong_credentials: "用户名或密码不正确", locked: "登录失败次数过多，已暂时锁定", not_a_grid_worker: "移动终端仅供网格员使用" };
    $("signin-error").textContent = (words[answer.code] || answer.detail) + left;
    return;
  }
  localStorage.setItem(TOKEN, answer.token);
  localStorage.setItem(USER, JSON.stringify(answer.user));
  $("password").value = "";
  await start();
});

function signedOut() {
  localStorage.removeItem(TOKEN);
  show("report");
}

$("signout").addEventListener("click", async () => {
  const waiting = (await queue.all()).filter((i) => i.status !== "sent").length;
  if (waiting && !confirm(`还有 ${waiting} 条未发送的记录，退出后将被删除。确定退出？`)) return;
  try { await fetch("/m/api/signout", { method: "POST", headers: { Authorization: `Bearer ${token()}` } }); } catch (_) { /* offline */ }
  await queue.clear();
  if ("caches" in window) for (const key of await caches.keys()) if (key.startsWith("gridcase-data")) await caches.delete(key);
  localStorage.removeItem(TOKEN);
  localStorage.removeItem(USER);
  location.hash = "#report";
  show("report");
});

// --- maps -------------------------------------------------------------------------------
function gridLayer() {
  return L.geoJSON(state.data.grids, {
    style: { color: "#0b5394", weight: 2, fillOpacity: 0.08, className: "gc-grid" },
    onEachFeature: (f, layer) => layer.bindTooltip(`${f.properties.name}（${f.properties.code}）`),
  });
}

function makeMap(id) {
  if (maps[id]) { maps[id].invalidateSize(); return maps[id]; }
  if (!state.data || !window.L) return null;
  const map = L.map(id, { attributionControl: false, zoomSnap: 0.25 });
  const grids = gridLayer().addTo(map);
  if (state.data.grids.features.length) map.fitBounds(grids.getBounds(), { padding: [8, 8] });
  else map.setView([34.78, 113.66], 13);
  maps[id] = map;
  return map;
}

let pointMarker = null;
function reportMap() {
  const map = makeMap("report-map");
  if (!map || map._gcClick) return;
  map._gcClick = true;
  map.on("click", (e) => setPoint({ lon: e.latlng.lng, lat: e.latlng.lat, source: "map" }));
}

function setPoint(point) {
  state.point = point;
  const map = maps["report-map"];
  if (map) {
    if (pointMarker) pointMarker.setLatLng([point.lat, point.lon]);
    else pointMarker = L.circleMarker([point.lat, point.lon], { radius: 8, color: "#c62828", fillOpacity: 0.8 }).addTo(map);
  }
  const where = point.source === "gps"
    ? `GPS 定位：${point.lon.toFixed(6)}, ${point.lat.toFixed(6)}（精度约 ${Math.round(point.accuracy)} 米）`
    : `地图选点：${point.lon.toFixed(6)}, ${point.lat.toFixed(6)}`;
  $("fix").textContent = where;
  const grid = state.data ? gridAt(state.data.grids.features, point.lon, point.lat) : null;
  $("grid-found").textContent = grid ? `所在网格：${grid.name}（${grid.code}）` : "⚠ 该位置不在您负责的网格内，发送后可能被退回。";
  $("grid-found").className = grid ? "grid-found" : "grid-found warn";
}

function locate(then) {
  if (!navigator.geolocation) { $("fix").textContent = "本机不支持定位，请在地图上点选。"; return; }
  $("fix").textContent = "正在定位…";
  navigator.geolocation.getCurrentPosition(
    (p) => {
      state.fix = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
      then(state.fix);
    },
    (err) => {
      state.fix = null;
      $("fix").textContent = err.code === 1 ? "未获得定位权限：请在地图上点选位置。" : "定位失败：请在地图上点选位置。";
      then(null);
    },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 0 },
  );
}
$("locate").addEventListener("click", () => locate((fix) => {
  if (!fix) return;
  setPoint({ ...fix, source: "gps" });
  maps["report-map"]?.setView([fix.lat, fix.lon], 16);
}));

async function casesMap() {
  const map = makeMap("cases-map");
  if (!map) return;
  let cases = [];
  try { cases = (await api("/m/api/cases")).items; } catch (_) { $("cases-note").textContent = "离线：无法读取在办案件。"; return; }
  if (map._gcCases) map._gcCases.remove();
  map._gcCases = L.layerGroup(cases.filter((c) => c.lon != null).map((c) =>
    L.circleMarker([c.lat, c.lon], { radius: 7, color: LIGHTS[c.light] || "#555", fillOpacity: 0.9, className: `gc-case gc-${c.light}` })
      .bindTooltip(`${c.case_id} · ${c.category} · ${c.stage}`))).addTo(map);
  $("cases-note").textContent = `在办案件 ${cases.length} 件（红黄绿灯按时限着色）。`;
}

// --- categories -------------------------------------------------------------------------
function fillCategories(keep) {
  const wanted = $("category-search").value.trim().toLowerCase();
  const select = $("category");
  const chosen = keep ?? select.value;
  select.replaceChildren(...state.data.categories
    .filter((c) => !wanted || c.code.toLowerCase().includes(wanted) || c.name_zh.includes(wanted) || c.name_en.toLowerCase().includes(wanted))
    .map((c) => new Option(`${c.code} ${c.name_zh}`, c.code, false, c.code === chosen)));
  showConditions();
}
function showConditions() {
  const cat = state.data?.categories.find((c) => c.code === $("category").value);
  const box = $("conditions");
  box.replaceChildren();
  if (!cat) return;
  const title = document.createElement("p");
  title.textContent = `立案条件（${cat.name_zh}）：`;
  const list = document.createElement("ul");
  for (const f of cat.conditions) {
    const li = document.createElement("li");
    li.textContent = `${f.zh}（处置时限 ${f.limit}）`;
    list.append(li);
  }
  box.append(title, list);
}
$("category-search").addEventListener("input", () => fillCategories());
$("category").addEventListener("change", showConditions);

// --- photos -----------------------------------------------------------------------------
async function takePhoto(input, into, listId) {
  const file = input.files[0];
  if (!file) return;
  const { blob, width, height } = await scaled(file);
  into[input.dataset.kind] = { kind: input.dataset.kind, blob, width, height };
  input.value = "";
  thumbs(into, listId);
}
function thumbs(photos, listId) {
  $(listId).replaceChildren(...Object.values(photos).map((p) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    if (p.blob) img.src = URL.createObjectURL(p.blob);
    img.alt = `${state.data?.photo_kinds[p.kind]?.zh || p.kind}照片`;
    const caption = document.createElement("span");
    caption.textContent = `${state.data?.photo_kinds[p.kind]?.zh || p.kind} ${p.width || ""}×${p.height || ""}`;
    li.append(img, caption);
    return li;
  }));
}
for (const id of ["photo-near", "photo-far"]) $(id).addEventListener("change", (e) => takePhoto(e.target, state.photos, "report-thumbs"));
for (const id of ["step-photo-a", "step-photo-b"]) $(id).addEventListener("change", (e) => takePhoto(e.target, state.stepPhotos, "step-thumbs"));

// --- report -----------------------------------------------------------------------------
$("report-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const category = $("category").value;
  const description = $("description").value.trim();
  const missing = [!state.point && "位置", !category && "类别", !description && "问题描述"].filter(Boolean);
  if (missing.length) { $("report-error").textContent = `请填写：${missing.join("、")}`; return; }
  $("report-error").textContent = "";
  const body = { category, description, location: { lon: state.point.lon, lat: state.point.lat } };
  const old = state.editing ? await queue.get(state.editing) : null;
  const item = old
    ? { ...old, body, status: "waiting", error: "", attempts: 0, nextAt: 0 }
    : { id: queue.newId("m"), kind: "report", created: Date.now(), status: "waiting", attempts: 0, body };
  item.fix = state.point.source === "gps" ? state.point : null;
  item.photos = Object.values(state.photos).length ? Object.values(state.photos) : (old?.photos || []);
  await queue.put(item);
  state.editing = null;
  state.photos = {};
  $("report-form").reset();
  $("report-thumbs").replaceChildren();
  fillCategories("");
  location.hash = "#outbox";
  send();
});

async function editReport(id) {
  const item = await queue.get(id);
  state.editing = id;
  location.hash = "#report";
  $("category-search").value = "";
  fillCategories(item.body.category);
  $("description").value = item.body.description;
  const loc = item.body.location;
  setTimeout(() => setPoint({ lon: loc.lon, lat: loc.lat, source: "map" }), 50);
  $("report-error").textContent = `上次被退回：${item.error}`;
}

// --- tasks and steps on site ------------------------------------------------------------
async function loadTasks() {
  try {
    const answer = await api("/v1/tasks?limit=200");
    state.tasks = answer.items;
    $("tasks-note").textContent = answer.cached ? "离线：显示上次读取的任务。" : "";
  } catch (_) {
    $("tasks-note").textContent = "离线且没有保存的任务列表。";
  }
  locate(() => renderTasks());
  renderTasks();
}

function renderTasks() {
  const here = state.fix;
  const tasks = state.tasks.map((t) => ({ ...t, distance: here && t.lon != null ? metres(here, t) : null }));
  tasks.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity) ||
    String(a.deadlines.stage_due_at).localeCompare(String(b.deadlines.stage_due_at)));
  $("task-list").replaceChildren(...tasks.map((t) => {
    const li = document.createElement("li");
    li.className = `card light-${t.light}`;
    const title = document.createElement("h3");
    title.textContent = `${t.task === "verify" ? "核实" : "核查"} · ${t.case_id}`;
    const what = document.createElement("p");
    what.textContent = `${t.category} ${t.description}`;
    const when = document.createElement("p");
    const due = t.deadlines.stage_due_at ? new Date(t.deadlines.stage_due_at).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai" }) : "—";
    const far = t.distance != null ? ` · 距离约 ${Math.round(t.distance)} 米` : "";
    when.textContent = `${{ green: "绿灯", yellow: "黄灯", red: "红灯" }[t.light] || t.light} · 时限 ${due}${far}`;
    const go = document.createElement("button");
    go.type = "button";
    go.textContent = t.task === "verify" ? "现场核实" : "现场核查";
    go.addEventListener("click", () => openStep(t));
    li.append(title, what, when, go);
    return li;
  }));
  if (!tasks.length && !$("tasks-note").textContent.startsWith("离线")) $("tasks-note").textContent = "暂无任务。";
}

function openStep(task) {
  const verify = task.task === "verify";
  const kinds = verify ? state.data.report_kinds : state.data.check_kinds;
  state.step = task;
  state.stepPhotos = {};
  $("step-thumbs").replaceChildren();
  $("step-title").textContent = `${verify ? "核实" : "核查"} ${task.case_id}`;
  $("step-question").textContent = verify ? "现场是否属实？" : "问题是否已解决？";
  $("step-yes").textContent = verify ? "属实" : "已解决（核查通过）";
  $("step-no").textContent = verify ? "不属实" : "未解决（返工）";
  [["step-photo-a", kinds[0]], ["step-photo-b", kinds[1]]].forEach(([id, kind]) => {
    $(id).dataset.kind = kind;
    $(`${id}-label`).textContent = `${state.data.photo_kinds[kind].zh}照片`;
  });
  $("step-note").value = "";
  $("step-error").textContent = "";
  $("step-form").hidden = false;
  $("step-distance").textContent = "正在定位…";
  locate((fix) => {
    if (!fix) { $("step-distance").textContent = "未获得定位：将不记录与案件位置的距离。"; return; }
    const d = task.lon != null ? Math.round(metres(fix, task)) : null;
    const limit = state.data.site_distance_warning_m;
    $("step-distance").textContent = d == null
      ? `当前位置精度约 ${Math.round(fix.accuracy)} 米`
      : `距案件位置约 ${d} 米（精度约 ${Math.round(fix.accuracy)} 米）${d > limit ? `，超过 ${limit} 米，将附带提醒` : ""}`;
  });
  $("step-form").scrollIntoView();
}
$("step-cancel").addEventListener("click", () => { $("step-form").hidden = true; });

$("step-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const task = state.step;
  const yes = document.querySelector("input[name=ok]:checked").value === "yes";
  const note = $("step-note").value.trim();
  if (!yes && !note) { $("step-error").textContent = "请说明现场情况。"; return; }
  const kind = task.task === "verify" ? "verify" : "check";
  const body = kind === "verify" ? { confirmed: yes, note } : { passed: yes, note };
  await queue.put({
    id: queue.newId(kind === "verify" ? "v" : "c"), kind, caseId: task.case_id, created: Date.now(),
    status: "waiting", attempts: 0, body, fix: state.fix, photos: Object.values(state.stepPhotos),
  });
  state.tasks = state.tasks.filter((t) => t.case_id !== task.case_id);
  $("step-form").hidden = true;
  location.hash = "#outbox";
  send();
});

// --- outbox -----------------------------------------------------------------------------
async function renderOutbox() {
  const items = await queue.all();
  const pending = items.filter((i) => i.status === "waiting" || i.status === "sending").length;
  $("pending").textContent = pending ? String(pending) : "";
  if ($("outbox").hidden) return;
  $("outbox-list").replaceChildren(...items.slice().reverse().map((item) => {
    const li = document.createElement("li");
    li.className = `card status-${item.status}`;
    li.dataset.id = item.id;
    li.dataset.status = item.status;
    const title = document.createElement("h3");
    const what = item.kind === "report" ? item.body.description : `${item.caseId}`;
    title.textContent = `${KIND[item.kind]} · ${what}`;
    const status = document.createElement("p");
    status.className = "status";
    const sent = item.status === "sent" ? `：案件编号 ${item.caseId}` : "";
    const why = item.status === "refused" ? `：${item.error}` : item.status === "waiting" && item.error ? `（${item.error}，稍后重试）` : "";
    status.textContent = `${STATUS[item.status]}${sent}${why}`;
    li.append(title, status);
    if (item.status === "refused") {
      const row = document.createElement("div");
      row.className = "row";
      if (item.kind === "report") {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.textContent = "修改后重发";
        edit.addEventListener("click", () => editReport(item.id));
        row.append(edit);
      }
      const again = document.createElement("button");
      again.type = "button";
      again.className = "secondary";
      again.textContent = "再次发送";
      again.addEventListener("click", async () => {
        Object.assign(item, { status: "waiting", error: "", attempts: 0, nextAt: 0 });
        await queue.put(item);
        send();
      });
      row.append(again);
      li.append(row);
    }
    return li;
  }));
}
$("send-now").addEventListener("click", async () => { await wake(); send(); });

// --- start ------------------------------------------------------------------------------
async function start() {
  showNet();
  if (!token()) { route(); return; }
  try {
    state.data = await api("/m/api/data");
  } catch (_) {
    state.data = state.data || { grids: { type: "FeatureCollection", features: [] }, categories: [], photo_kinds: {}, report_kinds: ["near", "far"], check_kinds: ["before", "after"], site_distance_warning_m: 200 };
    if (!token()) return;
  }
  fillCategories();
  route();
  send();
}

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch((err) => console.warn("service worker", err));
}
window.addEventListener("load", () => start());
