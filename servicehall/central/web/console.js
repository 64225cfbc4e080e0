// The dispatcher console: a map of the city (zones from central, no internet tiles), orders
// coloured by SLA state, crews live, outages with their affected count; drag or pick to
// assign; an order's timeline; KPIs; caller lookup. Talks only to central's /api/v1.
"use strict";

const API = "/api/v1";
const POLL_MS = Number(new URLSearchParams(location.search).get("poll")) || 5000;
const TZ = "Asia/Shanghai";

const CATEGORY = {
  burst_main: "爆管 Burst main", no_water: "停水 No water", low_pressure: "水压低 Low pressure",
  leak: "漏水 Leak", meter_fault: "水表故障 Meter fault", line_fault: "线路故障 Line fault",
  complaint: "投诉 Complaint", enquiry: "咨询 Enquiry", help: "求助 Help", misconduct: "举报 Misconduct",
};
const STATUS = {
  new: "待派 New", dispatched: "已派 Dispatched", accepted: "已接 Accepted", en_route: "在途 En route",
  on_site: "到场 On site", resolved: "已处理 Resolved", closed: "已销账 Closed", cancelled: "已撤销 Cancelled",
};
const KIND = {
  opened: "受理 Opened", dispatched: "派单 Dispatched", accepted: "接单 Accepted", declined: "拒单 Declined",
  set_off: "出发 Set off", arrived: "到场 Arrived", resolved: "处理完毕 Resolved", closed: "销账 Closed",
  cancelled: "撤销 Cancelled", reopened: "重开 Reopened", priority_raised: "升级 Priority raised",
  followed_up: "回访 Followed up", sla_warned: "时限预警 SLA at risk",
  supervisor_notified: "超时上报值班长 Breach: supervisor told", flagged: "无法派单 No crew",
};
const RESULT = {
  fixed: "已修复 Fixed", temporary_fix: "临时处理 Temporary fix", no_fault_found: "未发现故障 No fault found",
  customer_side: "用户内部问题 Customer side", referred: "转交 Referred", answered: "已答复 Answered",
  customer_absent: "用户不在 Customer absent",
};
const UNFIT = {
  no_skill: "无此技能 No skill", off_duty: "未当班 Off duty", busy: "忙 Busy", unreachable: "无法到达 Unreachable",
  shift_ends: "班次将结束 Shift ends", no_qualified_crew: "无合格班组 No qualified crew",
  no_crew_on_duty: "无当班班组 No crew on duty", all_qualified_busy: "合格班组均忙 All qualified crews busy",
  crews_taken: "班组已派往更急工单 Crews taken", order_changed: "工单已变 Order changed",
  crew_changed: "班组已变 Crew changed",
};
const SLA = { ok: "正常 On time", at_risk: "临近超时 At risk", breached: "已超时 Breached", pending: "待受理 Pending" };
const MILESTONE = { arrive: "到场 Arrive", restore: "修复 Restore", close: "销账 Close" };
const SOURCE = { phone: "电话 phone", web: "网上 web", dispatcher: "调度 dispatcher", hall: "营业厅 hall", kiosk: "自助终端 kiosk" };
const OUTAGE = { water_off: "停水", low_pressure: "降压", emergency_repair: "抢修", line_fault: "线路故障" };

const state = {
  token: sessionStorage.getItem("console-token"),
  staff: null,
  data: null,
  selected: null,
  plan: null,
  caller: null,
  dragging: false,
  drawn: "",
};
let map, layers;

// --- helpers ---------------------------------------------------------------------------------
const $ = (sel, root = document) => root.querySelector(sel);
const esc = (text) => String(text ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const hhmm = (iso) => iso ? new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso)) : "—";
const dayTime = (iso) => iso ? new Intl.DateTimeFormat("zh-CN", { timeZone: TZ, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(new Date(iso)) : "—";
const minutes = (s) => s == null ? "—" : `${Math.round(s / 60)} 分 min`;
const hours = (s) => s == null ? "—" : `${(s / 3600).toFixed(1)} 时 h`;
const pct = (x) => x == null ? "—" : `${Math.round(x * 100)}%`;
const yuan = (fen) => `¥${(fen / 100).toFixed(2)}`;
const today = () => new Intl.DateTimeFormat("en-CA", { timeZone: TZ }).format(new Date());

function noteText(kind, note) {
  // SLA rows say "<milestone> due <ISO time>"; flags name a reason; the rest is free text.
  const due = /^(arrive|restore|close) due (.+)$/.exec(note || "");
  if (due) return `${MILESTONE[due[1]]} 时限 due ${dayTime(due[2])}`;
  if (kind === "opened") return `渠道 via ${SOURCE[note] || esc(note)}`;
  return esc(UNFIT[note] || note);
}

function toast(text, bad = false) {
  const t = $("#toast");
  t.textContent = text;
  t.className = bad ? "show bad" : "show";
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = ""; }, 4000);
}

class ApiError extends Error {
  constructor(status, body) {
    super(body && body.message_en || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
  get text() { return `${this.body.message_zh || "操作失败"} · ${this.body.message_en || this.message}`; }
}

async function api(method, path, body, extra = {}) {
  const headers = { ...extra };
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401 && path !== "/console/session") {
    signedOut();
    throw new ApiError(401, await response.json().catch(() => null));
  }
  if (!response.ok) throw new ApiError(response.status, await response.json().catch(() => null));
  return response.status === 204 ? null : response.json();
}

function key() { return (crypto.randomUUID && crypto.randomUUID()) || `${Date.now()}-${Math.random()}`; }

// --- sign-in ---------------------------------------------------------------------------------
function signedOut() {
  state.token = null;
  sessionStorage.removeItem("console-token");
  $("#app").hidden = true;
  $("#signout").hidden = true;
  $("#who").textContent = "";
  $("#signin").hidden = false;
}

$("#signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#signin-error").textContent = "";
  try {
    const session = await api("POST", "/console/session", {
      staff_no: $("#signin-staff").value.trim(), pin: $("#signin-pin").value,
    });
    state.token = session.token;
    sessionStorage.setItem("console-token", session.token);
    $("#signin-pin").value = "";
    await start(session.staff);
  } catch (err) {
    $("#signin-error").textContent = err instanceof ApiError ? err.text : String(err);
  }
});

$("#signout").addEventListener("click", async () => {
  try { await api("DELETE", "/console/session"); } catch (err) { /* signed out either way */ }
  signedOut();
});

async function start(staff) {
  state.staff = staff || await api("GET", "/console/me");
  $("#who").textContent = `${state.staff.name}（${state.staff.staff_no}）· ${state.staff.roles.join(", ")}`;
  $("#signin").hidden = true;
  $("#signout").hidden = false;
  $("#app").hidden = false;
  if (!map) await buildMap();
  map.invalidateSize();
  await refresh();
}

// --- the map ---------------------------------------------------------------------------------
async function buildMap() {
  const base = await api("GET", "/console/base-map");
  map = L.map("map", { zoomSnap: 0.25, preferCanvas: false });
  map.attributionControl.addAttribution("片区（DMA）底图 District metered areas");
  const [[west, south], [east, north]] = base.bounds;
  map.fitBounds([[south, west], [north, east]], { padding: [10, 10] });
  L.geoJSON(base.zones, {
    style: () => ({ color: "#78909c", weight: 1, fillColor: "#cfd8dc", fillOpacity: 0.35 }),
    onEachFeature: (feature, layer) => {
      layer.bindTooltip(`${feature.properties.name_zh}<br>${feature.properties.name_en}`, {
        permanent: true, direction: "center", className: "zone-label",
      });
    },
  }).addTo(map);
  for (const hall of base.halls) {
    L.marker([hall.lat, hall.lon], {
      icon: L.divIcon({ className: "hall-pin", html: `厅 ${esc(hall.name_zh)}` }), keyboard: false,
    }).addTo(map);
  }
  layers = {
    outages: L.layerGroup().addTo(map),
    orders: L.layerGroup().addTo(map),
    crews: L.layerGroup().addTo(map),
  };
  layers.crewMarkers = new Map();
}

function drawMap(data) {
  layers.outages.clearLayers();
  for (const outage of data.outages) {
    const count = outage.affected_count == null ? "计算中 counting" : `${outage.affected_count} 户 premises`;
    L.geoJSON(outage.area, {
      style: { color: "#d93025", weight: 2, dashArray: "6 4", fillColor: "#d93025", fillOpacity: 0.12 },
    }).bindTooltip(`${OUTAGE[outage.kind] || outage.kind} · ${esc(outage.title_zh)}<br>受影响 Affected: ${count}`)
      .addTo(layers.outages);
  }
  layers.crews.clearLayers();
  layers.crewMarkers.clear();
  for (const crew of data.crews) {
    const classes = ["crew-pin"];
    if (crew.located_by === "depot") classes.push("at-depot");
    if (crew.stale) classes.push("stale");
    if (!crew.on_duty) classes.push("off-duty");
    const marker = L.marker([crew.lat, crew.lon], {
      icon: L.divIcon({ className: classes.join(" "), html: esc(crew.crew.code) }), zIndexOffset: 500,
    }).bindTooltip(crewLine(crew)).addTo(layers.crews);
    marker.getElement().dataset.crew = crew.crew.id;
    layers.crewMarkers.set(crew.crew.id, marker);
  }
  layers.orders.clearLayers();
  for (const order of data.orders) {
    const classes = ["order-pin", `sla-${order.sla_level}`];
    if (order.status === "resolved") classes.push("resolved");
    if (order.id === state.selected) classes.push("selected");
    const marker = L.marker([order.lat, order.lon], {
      icon: L.divIcon({ className: classes.join(" "), html: String(order.priority) }),
      draggable: canDispatch() && ["new", "dispatched", "accepted"].includes(order.status),
      zIndexOffset: order.id === state.selected ? 1000 : 0,
    }).bindTooltip(`${esc(order.number)} · ${CATEGORY[order.category]}<br>${SLA[order.sla_level]} · ${STATUS[order.status]}`)
      .on("click", () => select(order.id))
      .on("dragstart", () => { state.dragging = true; })
      .on("dragend", (event) => { state.dragging = false; dropOnMap(order, event.target); })
      .addTo(layers.orders);
    marker.getElement().dataset.order = order.id;
  }
}

function dropOnMap(order, marker) {
  // Dropped near a crew: assign to it. Anywhere else: back where it was.
  const at = map.latLngToContainerPoint(marker.getLatLng());
  let best = null;
  for (const [crewId, crewMarker] of layers.crewMarkers) {
    const d = at.distanceTo(map.latLngToContainerPoint(crewMarker.getLatLng()));
    if (d < 40 && (!best || d < best.d)) best = { crewId, d };
  }
  marker.setLatLng([order.lat, order.lon]);
  if (best) assign(order, best.crewId);
}

// --- lists -----------------------------------------------------------------------------------
function canDispatch() { return state.staff && state.staff.roles.some((r) => r === "dispatcher" || r === "supervisor"); }

function crewLine(crew) {
  const where = crew.located_by === "gps"
    ? `GPS ${hhmm(crew.fix_at)}`
    : (crew.stale ? `信号中断 silent since ${hhmm(crew.fix_at)} · 按驻地 at depot` : "驻地 at depot");
  const duty = crew.on_duty ? "" : " · 未当班 off duty";
  return `${esc(crew.crew.name_zh)} · ${esc(crew.activity)} · ${crew.holds.length} 单${duty}<br>${where}`;
}

function drawLists(data) {
  const orders = $("#orders");
  $("#order-count").textContent = `(${data.orders.length})`;
  orders.innerHTML = data.orders.map((o) => `
    <li class="order-row sla-${o.sla_level}${o.id === state.selected ? " selected" : ""}" data-id="${o.id}" draggable="${canDispatch()}">
      <span class="dot"></span><span class="prio p${o.priority}">P${o.priority}</span>
      <span class="what">${CATEGORY[o.category]} <span class="num">${esc(o.number)}</span>
        ${o.flag_reason ? `<span class="flag">⚑ ${UNFIT[o.flag_reason] || esc(o.flag_reason)}</span>` : ""}</span>
      <span class="status">${STATUS[o.status]}</span>
      <span class="crew">${o.crew ? esc(o.crew.code) : "—"}</span>
    </li>`).join("") || "<li>暂无工单 No orders</li>";
  for (const row of orders.querySelectorAll(".order-row")) {
    row.addEventListener("click", () => select(row.dataset.id));
    row.addEventListener("dragstart", (event) => {
      state.dragging = true;
      event.dataTransfer.setData("text/x-order", row.dataset.id);
      event.dataTransfer.effectAllowed = "move";
    });
    row.addEventListener("dragend", () => { state.dragging = false; });
  }
  const crews = $("#crews");
  crews.innerHTML = data.crews.map((c) => `
    <li class="crew-row${c.stale ? " stale" : ""}" data-id="${c.crew.id}">
      <span class="code">${esc(c.crew.code)}</span>
      <span class="pos">${crewLine(c)}</span>
    </li>`).join("");
  for (const row of crews.querySelectorAll(".crew-row")) {
    row.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes("text/x-order")) return;
      event.preventDefault();
      row.classList.add("drop");
    });
    row.addEventListener("dragleave", () => row.classList.remove("drop"));
    row.addEventListener("drop", (event) => {
      event.preventDefault();
      row.classList.remove("drop");
      const order = state.data.orders.find((o) => o.id === event.dataTransfer.getData("text/x-order"));
      if (order) assign(order, row.dataset.id);
    });
  }
  $("#alerts").innerHTML = data.alerts.slice(0, 6).map((a) => `
    <div class="alert ${a.kind}" data-id="${a.order_id}">${hhmm(a.at)} ${esc(a.number)} · ${KIND[a.kind]}${a.note ? ` · ${noteText(a.kind, a.note)}` : ""}</div>`).join("");
  for (const row of $("#alerts").querySelectorAll(".alert")) row.addEventListener("click", () => select(row.dataset.id));
}

async function refresh() {
  if (!state.token) return;
  try {
    state.data = await api("GET", "/console/state");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    toast(err instanceof ApiError ? err.text : "连接中断 Connection lost", true);
    return;
  }
  $("#clock").textContent = `北京时间 ${dayTime(state.data.now)}`;
  // Redraw only what changed, and never under a drag in progress (its target would vanish).
  const { now, ...rest } = state.data;
  const drawn = JSON.stringify(rest) + state.selected;
  if (state.dragging || drawn === state.drawn) return;
  state.drawn = drawn;
  drawMap(state.data);
  drawLists(state.data);
  if (state.selected) await drawDetail(state.selected, false);
}

// --- one order -------------------------------------------------------------------------------
async function select(orderId) {
  state.selected = orderId;
  state.drawn = "";
  for (const row of document.querySelectorAll(".order-row")) row.classList.toggle("selected", row.dataset.id === orderId);
  await drawDetail(orderId, true);
  if (state.data) drawMap(state.data);
}

async function drawDetail(orderId, withSuggestions) {
  let detail;
  try {
    detail = await api("GET", `/work-orders/${orderId}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) { state.selected = null; $("#detail").hidden = true; }
    return;
  }
  const o = detail.order;
  const box = $("#detail");
  box.hidden = false;
  box.dataset.id = o.id;
  box.dataset.version = o.version;
  const clocks = o.sla_clocks.map((c) => `<span class="clock-${c.level}">${MILESTONE[c.milestone]} ${dayTime(c.due_at)}${c.met ? " ✓" : ""}</span>`).join("");
  const keep = box.querySelector("#suggestions");
  box.innerHTML = `
    <button type="button" class="close" id="detail-close" aria-label="关闭 Close">✕</button>
    <div class="head"><h3>${esc(o.number)} <span class="prio p${o.priority}">P${o.priority}</span> ${CATEGORY[o.category]}</h3>
      <span class="status" id="detail-status">${STATUS[o.status]}</span></div>
    <dl>
      <dt>时限 SLA</dt><dd class="clocks"><span class="dot sla-${o.sla_level}"></span> ${SLA[o.sla_level]}<br>${clocks}</dd>
      <dt>描述 Report</dt><dd>${esc(o.description)}</dd>
      <dt>地点 Place</dt><dd>${esc(o.address || `${o.lon.toFixed(5)}, ${o.lat.toFixed(5)}`)}${o.account_no ? ` · 户号 ${esc(o.account_no)}` : ""}</dd>
      <dt>联系 Contact</dt><dd>${esc(o.contact_name || "")} ${esc(o.contact_phone || "—")}</dd>
      <dt>班组 Crew</dt><dd>${o.crew ? `${esc(o.crew.name_zh)}（${esc(o.crew.code)}）${o.pinned ? " · 调度指定 pinned" : ""}` : "—"}</dd>
      ${o.result ? `<dt>结果 Result</dt><dd>${RESULT[o.result]}</dd>` : ""}
      ${o.satisfaction ? `<dt>满意度 Score</dt><dd>${"★".repeat(o.satisfaction)}</dd>` : ""}
    </dl>
    <div class="actions" id="actions"></div>
    <div id="suggestions"></div>
    <h3>处理过程 Timeline</h3>
    <ol id="timeline">${detail.timeline.map((e) => `
      <li data-kind="${e.kind}"><time>${dayTime(e.at)}</time>${KIND[e.kind] || esc(e.kind)}
        ${e.crew ? ` · ${esc(e.crew.code)}` : ""}${e.result ? ` · ${RESULT[e.result]}` : ""}${e.score ? ` · ${e.score}★` : ""}
        ${e.implied.length ? ` <small>（含 ${e.implied.map((s) => STATUS[s]).join("、")}）</small>` : ""}
        <small>— ${esc(e.actor_name)}</small>${e.note ? `<br><small>${noteText(e.kind, e.note)}</small>` : ""}</li>`).join("")}
    </ol>`;
  $("#detail-close").addEventListener("click", () => {
    state.selected = null;
    box.hidden = true;
    if (state.data) { drawMap(state.data); drawLists(state.data); }
  });
  drawActions(o);
  if (withSuggestions && canDispatch() && ["new", "dispatched", "accepted"].includes(o.status)) {
    await drawSuggestions(o);
  } else if (keep && !withSuggestions) {
    box.querySelector("#suggestions").replaceWith(keep);
  }
}

async function drawSuggestions(order) {
  const box = $("#suggestions");
  try {
    const s = await api("GET", `/work-orders/${order.id}/suggestions`);
    box.innerHTML = `<h3>推荐班组 Suggested crews${s.no_crew_reason ? ` <span class="flag">⚑ ${UNFIT[s.no_crew_reason]}</span>` : ""}</h3>` +
      s.options.map((opt) => `
        <div class="option${opt.fits ? "" : " unfit"}" data-crew="${opt.crew.id}">
          <span class="eta">${opt.eta_s == null ? "—" : minutes(opt.eta_s)}</span>
          <span class="code">${esc(opt.crew.code)}${s.best && s.best.id === opt.crew.id ? " ★" : ""}</span>
          <span>${opt.fits ? "可派 fits" : UNFIT[opt.unfit] || esc(opt.unfit)}</span>
          <button type="button" class="${s.best && s.best.id === opt.crew.id ? "primary" : ""}">派单 Assign</button>
        </div>`).join("");
    for (const row of box.querySelectorAll(".option")) {
      row.querySelector("button").addEventListener("click", () => assign(order, row.dataset.crew));
    }
  } catch (err) {
    box.textContent = err instanceof ApiError ? err.text : String(err);
  }
}

function drawActions(o) {
  const actions = $("#actions");
  const buttons = [];
  const dispatcher = canDispatch();
  if (dispatcher && ["dispatched", "accepted", "en_route", "on_site"].includes(o.status)) buttons.push(["resolve", "填报结果 Resolve"]);
  if (dispatcher && o.status === "resolved") buttons.push(["close", "销账 Close"]);
  if (dispatcher && ["new", "dispatched", "accepted", "en_route", "on_site"].includes(o.status)) buttons.push(["cancel", "撤销 Cancel"]);
  if (dispatcher && ["new", "dispatched", "accepted", "en_route", "on_site"].includes(o.status) && o.priority > 1) buttons.push(["priority", "升级 Raise priority"]);
  if (dispatcher && ["resolved", "closed", "cancelled"].includes(o.status)) buttons.push(["reopen", "重开 Reopen"]);
  if (o.status === "closed" && !o.satisfaction) buttons.push(["follow-up", "回访 Follow up"]);
  actions.innerHTML = buttons.map(([name, label]) => `<button type="button" data-act="${name}">${label}</button>`).join("");
  for (const button of actions.querySelectorAll("button")) {
    button.addEventListener("click", () => act(o, button.dataset.act));
  }
}

function askResult(question) {
  const choices = Object.entries(RESULT).map(([k, v], i) => `${i + 1}. ${v}`).join("\n");
  const pick = prompt(`${question}\n${choices}`, "1");
  const keys = Object.keys(RESULT);
  return pick ? keys[Number(pick) - 1] : null;
}

async function act(order, what) {
  const version = order.version;
  let body = null;
  if (what === "resolve") { const result = askResult("处理结果 Result"); if (!result) return; body = { result, note: "" }; }
  if (what === "close") { const result = askResult("销账结果 Final result") ; if (!result) return; body = { result }; }
  if (what === "cancel" || what === "reopen") { const reason = prompt("原因 Reason"); if (!reason) return; body = { reason }; }
  if (what === "priority") { body = { priority: order.priority - 1, reason: "调度员升级 Raised by the dispatcher" }; }
  if (what === "follow-up") { const score = Number(prompt("满意度 1–5 Satisfaction", "5")); if (!(score >= 1 && score <= 5)) return; body = { score, note: "" }; }
  try {
    await api("POST", `/work-orders/${order.id}/${what}`, { ...body, expected_version: version }, { "Idempotency-Key": key() });
    toast("已记录 Recorded");
  } catch (err) {
    toast(err instanceof ApiError ? err.text : String(err), true);
  }
  await refresh();
  await drawDetail(order.id, true);
}

async function assign(order, crewId) {
  if (!canDispatch()) return;
  try {
    const change = await api("POST", `/work-orders/${order.id}/dispatch`, { crew_id: crewId, expected_version: order.version });
    const crew = change.order.crew ? change.order.crew.code : "";
    const set = change.overridden.length ? `（已越过规则 rules set aside: ${change.overridden.map((r) => UNFIT[r] || r).join("、")}）` : "";
    toast(`${change.order.number} → ${crew} ${set}`);
    state.selected = order.id;
  } catch (err) {
    toast(err instanceof ApiError ? err.text : String(err), true);
  }
  await refresh();
  await drawDetail(order.id, true);
}

// --- plans -----------------------------------------------------------------------------------
$("#plan-go").addEventListener("click", async () => {
  try {
    state.plan = await api("POST", "/dispatch/plan");
    drawPlan(state.plan, false);
  } catch (err) { toast(err instanceof ApiError ? err.text : String(err), true); }
});
$("#plan-close").addEventListener("click", () => { $("#plan").hidden = true; state.plan = null; });
$("#plan-apply").addEventListener("click", async () => {
  if (!state.plan) return;
  const body = {
    made_at: state.plan.made_at,
    lines: state.plan.lines.map((l) => ({
      order_id: l.order_id, number: l.number, priority: l.priority, version: l.version, outcome: l.outcome,
      crew_id: l.crew ? l.crew.id : null, crew_holds: l.crew_holds, eta_s: l.eta_s, reason: l.reason,
    })),
  };
  try {
    const done = await api("POST", "/dispatch/plan/apply", body);
    drawPlan(done, true);
    state.plan = null;
    await refresh();
  } catch (err) { toast(err instanceof ApiError ? err.text : String(err), true); }
});

function drawPlan(plan, applied) {
  $("#plan").hidden = false;
  $("#plan-apply").hidden = applied;
  const label = { assign: "派往 to", keep: "保持 keep", unassigned: "无法派 none", assigned: "已派 assigned", conflict: "冲突 conflict", flagged: "已标记 flagged" };
  $("#plan-lines").innerHTML = plan.lines.map((l) => `
    <li class="plan-line ${l.outcome}" data-id="${l.order_id}"><span class="prio p${l.priority}">P${l.priority}</span>
      ${esc(l.number)} · ${label[l.outcome] || l.outcome} ${l.crew ? esc(l.crew.code) : ""}
      ${l.eta_s != null ? `· ${minutes(l.eta_s)}` : ""} ${l.reason ? `· ${UNFIT[l.reason] || esc(l.reason)}` : ""}</li>`).join("")
    || "<li>无待派工单 Nothing to plan</li>";
}

// --- KPIs ------------------------------------------------------------------------------------
$("#kpi-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await loadKpis();
});

async function loadKpis() {
  if (!$("#kpi-last").value) $("#kpi-last").value = today();
  if (!$("#kpi-first").value) {
    const first = new Date(`${$("#kpi-last").value}T00:00:00Z`);
    first.setUTCDate(first.getUTCDate() - 6);
    $("#kpi-first").value = first.toISOString().slice(0, 10);
  }
  try {
    const k = await api("GET", `/console/kpis?first=${$("#kpi-first").value}&last=${$("#kpi-last").value}`);
    $("#kpi-table tbody").innerHTML = k.rows.map((r) => `
      <tr class="${r.crew ? "crew" : "total"}" data-day="${r.day}" data-crew="${r.crew ? esc(r.crew.code) : ""}">
        <td>${r.day}</td><td>${r.crew ? esc(r.crew.code) : "全部 All"}</td><td>${r.orders}</td>
        <td>${minutes(r.mean_response_s)}</td><td>${hours(r.mean_restore_s)}</td>
        <td>${pct(r.sla_share)} <small>${r.sla_met}/${r.sla_judged}</small></td>
        <td>${pct(r.first_time_fix_share)} <small>${r.first_time_fixes}/${r.first_fix_judged}</small></td></tr>`).join("")
      || `<tr><td colspan="7">无数据 No orders in this period</td></tr>`;
    drawKpiChart(k.rows.filter((r) => !r.crew), k.first, k.last);
  } catch (err) {
    toast(err instanceof ApiError ? err.text : String(err), true);
  }
}

function drawKpiChart(rows, first, last) {
  // Orders per day (bars) and the SLA share (dots, 0–100 %), every day of the period.
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const days = [];
  for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  const most = Math.max(1, ...rows.map((r) => r.orders));
  const W = 700, H = 150, top = 16, bottom = 20, plot = H - top - bottom, w = W / days.length;
  const parts = days.map((day, i) => {
    const r = byDay.get(day);
    const n = r ? r.orders : 0;
    const h = (n / most) * plot;
    const x = i * w;
    let out = `<rect x="${x + w * 0.2}" y="${top + plot - h}" width="${w * 0.6}" height="${h}" fill="#90caf9"><title>${day}: ${n}</title></rect>`;
    out += `<text x="${x + w / 2}" y="${H - 5}" text-anchor="middle">${day.slice(5)}</text>`;
    if (n) out += `<text x="${x + w / 2}" y="${top + plot - h - 3}" text-anchor="middle">${n}</text>`;
    if (r && r.sla_share != null) out += `<circle cx="${x + w / 2}" cy="${top + plot - r.sla_share * plot}" r="4" fill="#1e8e3e"><title>SLA ${pct(r.sla_share)}</title></circle>`;
    return out;
  }).join("");
  $("#kpi-chart").innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="每日工单（柱）与 SLA 达标率（点） Orders per day (bars) and SLA share (dots)">${parts}</svg>`;
}

// --- caller lookup ---------------------------------------------------------------------------
$("#caller-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    state.caller = await api("GET", `/callers?phone=${encodeURIComponent($("#caller-phone").value)}`);
    drawCaller(state.caller);
  } catch (err) {
    $("#caller-card").textContent = err instanceof ApiError ? err.text : String(err);
    $("#intake-form").hidden = true;
  }
});

function drawCaller(card) {
  const box = $("#caller-card");
  if (!card.known) {
    box.innerHTML = `<p>未登记号码 Unknown number ${esc(card.phone)}</p>`;
  } else {
    box.innerHTML = card.customers.map((c) => `
      <div class="customer"><h3>${esc(c.name)} ${c.is_vip ? '<span class="vip">VIP</span>' : ""} <small>${esc(card.phone)}</small></h3>
      ${c.accounts.map((a) => `
        <div class="account" data-account="${esc(a.account_no)}"><b>${esc(a.account_no)}</b> · ${esc(a.address_zh)}
          ${a.arrears_fen > 0 ? `<span class="arrears">欠费 Arrears ${yuan(a.arrears_fen)}</span>` : "无欠费 No arrears"}
          <table><thead><tr><th>账期 Period</th><th>用水 m³</th><th>金额 Amount</th><th>已缴 Paid</th><th>状态</th></tr></thead><tbody>
          ${a.bills.map((b) => `<tr class="bill-${b.state}"><td>${b.period_start.slice(0, 7)}</td><td>${(b.consumption_litres / 1000).toFixed(1)}</td>
            <td>${yuan(b.amount_fen)}</td><td>${yuan(b.paid_fen)}</td><td>${{ paid: "已缴", part_paid: "部分", unpaid: "未到期", overdue: "欠费" }[b.state]}</td></tr>`).join("")}
          </tbody></table>
          ${a.payments.length ? `<small>最近缴费 Last paid: ${dayTime(a.payments[0].paid_at)} ${yuan(a.payments[0].amount_fen)} ${esc(a.payments[0].card_masked || a.payments[0].method)}</small>` : ""}
        </div>`).join("")}</div>`).join("") + (card.more_accounts ? `<p>另有 ${card.more_accounts} 个户号 more accounts</p>` : "");
  }
  box.innerHTML += card.outages.map((o) => `<p class="flag">⚠ ${OUTAGE[o.kind] || o.kind} · ${esc(o.title_zh)}（${o.affects.map(esc).join("、")}）预计恢复 ${dayTime(o.estimated_restore_at)}</p>`).join("");
  box.innerHTML += card.orders.length ? `<h3>工单 Orders</h3><ul class="list">${card.orders.map((o) => `<li>${esc(o.number)} · ${CATEGORY[o.category]} · ${STATUS[o.status]}</li>`).join("")}</ul>` : "";
  const accounts = card.customers.flatMap((c) => c.accounts);
  $("#intake-account").innerHTML = accounts.map((a) => `<option value="${esc(a.account_no)}">${esc(a.account_no)} ${esc(a.address_zh)}</option>`).join("") +
    '<option value="">不关联户号 No account</option>';
  $("#intake-form").hidden = !accounts.length;
  $("#intake-result").textContent = "";
}

$("#intake-category").innerHTML = Object.entries(CATEGORY).map(([k, v]) => `<option value="${k}">${v}</option>`).join("");
$("#intake-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const priority = $("#intake-priority").value;
  try {
    const order = await api("POST", "/work-orders", {
      category: $("#intake-category").value,
      description: $("#intake-description").value.trim() || CATEGORY[$("#intake-category").value],
      source: "phone",
      account_no: $("#intake-account").value || null,
      contact_phone: state.caller ? state.caller.phone : null,
      priority: priority ? Number(priority) : null,
    }, { "Idempotency-Key": key() });
    $("#intake-result").textContent = `已登记 Logged ${order.number}`;
    $("#intake-description").value = "";
    await refresh();
  } catch (err) {
    $("#intake-result").textContent = err instanceof ApiError ? err.text : String(err);
  }
});

// --- tabs and start --------------------------------------------------------------------------
for (const button of document.querySelectorAll("#tabs button")) {
  button.addEventListener("click", () => {
    for (const other of document.querySelectorAll("#tabs button")) other.classList.toggle("on", other === button);
    for (const tab of document.querySelectorAll(".tab")) tab.hidden = tab.id !== `tab-${button.dataset.tab}`;
    if (button.dataset.tab === "kpis") loadKpis();
    if (map) map.invalidateSize();
  });
}

setInterval(refresh, POLL_MS);
if (state.token) {
  start(null).catch(() => signedOut());
} else {
  signedOut();
}
