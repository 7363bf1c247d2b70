// Vitrine tablet app: pair, pick a zone, see customers live, serve one, scan what they
// are shown, end the service, see its summary. Plain ES modules, no build step.

import { api, ApiError, getToken, setToken, uuid } from "./api.js";
import * as queue from "./queue.js";
import { LiveZone } from "./live.js";
import { openCameraSheet } from "./camera-sheet.js";
import { listenForScanner } from "./scanner.js";
import { codeDoubt, isValidGtin } from "./codes.js";
import { h, clear, money, ago, clock, initials, silhouette, cameraIcon } from "./ui.js";

const app = document.getElementById("app");
const titleEl = document.getElementById("title");
const netEl = document.getElementById("net");
const netText = document.getElementById("net-text");
const menuBtn = document.getElementById("menu-btn");
const toastEl = document.getElementById("toast");

const store = {
  get(k, d = null) {
    try { const v = localStorage.getItem(`vitrine.${k}`); return v === null ? d : JSON.parse(v); } catch (_) { return d; }
  },
  set(k, v) {
    if (v === null || v === undefined) localStorage.removeItem(`vitrine.${k}`);
    else localStorage.setItem(`vitrine.${k}`, JSON.stringify(v));
  },
};

let me = store.get("me");
let live = null;
let cleanup = [];
let liveState = "connecting"; // the customer list's stream: live | connecting | offline
let mode = "other"; // what the pill is about: "customers" | "service" | "other"
let reachable = true; // the last request to the store server got an answer
const crops = new Map(); // visitor_id -> object URL (or a pending promise)

// --- small helpers ------------------------------------------------------------------

// A message at the bottom; `action` ({label, fn}) adds a button (e.g. Undo).
function toast(text, bad = false, action = null, ms = 3200) {
  clear(toastEl);
  toastEl.append(h("span", {}, text));
  if (action) {
    toastEl.append(h("button", {
      class: "toast-action", id: "toast-action",
      onclick: () => { toastEl.hidden = true; action.fn(); },
    }, action.label));
  }
  toastEl.classList.toggle("bad", bad);
  toastEl.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { toastEl.hidden = true; }, ms);
}

// A question with two answers, above everything; resolves true for `ok`. `safe`: the
// focus starts on the cancel button (a scanner's Enter must not say yes by accident).
function confirmSheet({ title, text, ok, cancel = "Cancel", danger = false, safe = false }) {
  // cancel = null: a notice with one button
  return new Promise((resolve) => {
    const done = (v) => { back.remove(); document.removeEventListener("keydown", onKey, true); resolve(v); };
    const onKey = (e) => { if (e.key === "Escape") { e.stopPropagation(); done(false); } };
    const okBtn = h("button", { class: `btn ${danger ? "danger" : "primary"}`, id: "confirm-ok", onclick: () => done(true) }, ok);
    const cancelBtn = h("button", { class: "btn", id: "confirm-cancel", onclick: () => done(false) }, cancel);
    const back = h("div", { class: "sheet-backdrop" },
      h("div", { class: "sheet", role: "alertdialog", "aria-modal": "true", "aria-labelledby": "confirm-title" },
        h("h2", { id: "confirm-title" }, title),
        h("div", { class: "sheet-text", id: "confirm-text" }, text),
        h("div", { class: "bar" }, cancel === null ? null : cancelBtn, okBtn)));
    document.addEventListener("keydown", onKey, true);
    document.body.append(back);
    (safe ? cancelBtn : okBtn).focus();
  });
}

// The status pill: one meaning per screen, never a bare "Ready"; tap it for the legend.
const NET_STATES = {
  live: ["Live", "Connected: customers appear here as soon as the cameras see them."],
  connecting: ["Reconnecting…", "The live list is reconnecting; meanwhile it is refreshed every few seconds."],
  serving: ["Serving", "You are serving a customer: each item is saved on the store server as you add it."],
  online: ["Online", "Connected to the store server."],
  waiting: ["to send", "Saved on this tablet, waiting for the store server (Wi-Fi): nothing is lost, it is sent as soon as it answers."],
  offline: ["Offline", "No answer from the store server: check the Wi-Fi. Items you add wait on this tablet."],
};

// From the live list: its stream's state (live | connecting | offline), or whether its
// fallback polling reached the server (reachable | unreachable).
function setNet(state) {
  if (state === "reachable" || state === "unreachable") reachable = state === "reachable";
  else liveState = state;
  if (state === "live") reachable = true;
  renderNet();
}

function setMode(m) {
  mode = m;
  renderNet();
}

const SLOW_MS = 1500; // an action the server has not taken after this shows as waiting

function renderNet() {
  // a scan sent at once never flashes "1 to send": only what waits is counted
  const pending = queue.pending();
  const waiting = pending.filter((a) => Date.now() - a.queuedAt >= SLOW_MS).length;
  clearTimeout(renderNet.t);
  if (pending.length > waiting) renderNet.t = setTimeout(renderNet, SLOW_MS);
  let state;
  if (mode === "customers") state = liveState === "live" ? "live" : reachable ? "connecting" : "offline";
  else if (mode === "service") state = reachable ? "serving" : "offline";
  else state = reachable ? "online" : "offline";
  let text = NET_STATES[state][0];
  if (waiting) {
    state = "waiting";
    text = `${waiting} to send`;
  }
  netEl.dataset.state = state;
  netText.textContent = text;
  netEl.title = NET_STATES[state][1];
}

function showNetHelp() {
  const order = ["live", "connecting", "serving", "waiting", "offline"];
  confirmSheet({
    title: "What the light says",
    text: h("dl", { class: "net-help" }, ...order.flatMap((k) => [
      h("dt", {}, h("span", { class: "net", "data-state": k }, h("i"), k === "waiting" ? "2 to send" : NET_STATES[k][0])),
      h("dd", {}, NET_STATES[k][1])])),
    ok: "Got it", cancel: null,
  });
}

function screen(title, ...children) {
  for (const fn of cleanup.splice(0)) fn();
  setMode("other");
  titleEl.textContent = title;
  clear(app);
  for (const c of children) if (c) app.append(c);
  window.scrollTo(0, 0);
}

async function cropUrl(zone, visitorId) {
  if (crops.has(visitorId)) return crops.get(visitorId);
  const p = api.crop(zone, visitorId).then(
    (blob) => { const u = URL.createObjectURL(blob); crops.set(visitorId, u); return u; },
    () => { crops.delete(visitorId); return null; },
  );
  crops.set(visitorId, p);
  return p;
}

function thumb(zone, c) {
  const box = h("div", { class: "thumb" }, silhouette());
  if (c && c.has_crop) {
    Promise.resolve(cropUrl(zone, c.visitor_id)).then((u) => {
      if (u) { clear(box); box.append(h("img", { src: u, alt: "Customer" })); }
    });
  }
  return box;
}

function authLost() {
  setToken("");
  store.set("me", null);
  if (live) { live.stop(); live = null; }
  toast("This tablet is no longer paired. Pair it again.", true, null, 6000);
  showPairCode();
}

// --- pairing -----------------------------------------------------------------------

function showPairCode(prefill = "") {
  menuBtn.hidden = true;
  const input = h("input", {
    class: "field code-field", maxlength: "8", autocomplete: "off", autocapitalize: "characters",
    placeholder: "ABC123", value: prefill, "aria-label": "Pairing code",
  });
  const err = h("div", { class: "error-text" });
  const go = async () => {
    err.textContent = "";
    const code = input.value.trim().toUpperCase();
    if (code.length < 4) { err.textContent = "Type the code shown on the store computer."; return; }
    try {
      const info = await api.pairingInfo(code);
      showPeople(code, info);
    } catch (e) {
      err.textContent = e.message;
    }
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); });
  screen(
    "Pair this tablet",
    h("div", { class: "pin-wrap" },
      h("h1", {}, "Pair this tablet"),
      h("p", { class: "lead" }, "Scan the QR code on the store computer, or type its code."),
      input, err,
      h("button", { class: "btn primary block", onclick: go }, "Continue"),
      location.protocol === "https:"
        ? h("p", { class: "lead small" },
          h("a", { href: "/ca.crt", class: "ca-link" }, "Install this store's certificate"),
          " once, and this tablet never warns about the connection again.")
        : null),
  );
  if (!prefill) input.focus();
}

function showPeople(code, info) {
  const cards = info.salespeople.map((p) =>
    h("button", { class: "choice", onclick: () => showPin(code, p), "data-person": p.name },
      h("div", { class: "avatar" }, initials(p.name)),
      h("strong", {}, p.name),
      h("span", {}, "Tap to enter your PIN")));
  screen(
    `Pair · ${info.store_name}`,
    h("h1", {}, "Who are you?"),
    h("p", { class: "lead" }, `Pick your name to use this tablet at ${info.store_name}.`),
    cards.length ? h("div", { class: "grid" }, ...cards)
      : h("div", { class: "empty" }, "No salespeople yet: add them in the desktop app."),
  );
}

function showPin(code, person) {
  let pin = "";
  const dots = h("div", { class: "pin-dots" });
  const err = h("div", { class: "error-text" });
  const draw = () => {
    clear(dots);
    const n = Math.max(4, pin.length);
    for (let i = 0; i < n; i++) dots.append(h("i", { class: i < pin.length ? "on" : "" }));
  };
  const submit = async () => {
    if (pin.length < 4) return;
    err.textContent = "";
    try {
      const label = `${person.name}'s tablet`;
      const r = await api.pair(code, person.id, pin, label);
      setToken(r.token);
      history.replaceState(null, "", location.pathname);
      await boot();
    } catch (e) {
      pin = "";
      draw();
      err.textContent = e.status === 401 ? "Wrong PIN, try again." : e.message;
    }
  };
  const press = (k) => {
    if (k === "⌫") pin = pin.slice(0, -1);
    else if (k === "OK") { submit(); return; }
    else if (pin.length < 8) pin += k;
    draw();
  };
  const keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"];
  const pad = h("div", { class: "pinpad" },
    ...keys.map((k) => h("button", { class: k === "⌫" || k === "OK" ? "fn" : "", onclick: () => press(k) }, k)));
  const onKey = (e) => {
    if (/^[0-9]$/.test(e.key)) press(e.key);
    else if (e.key === "Backspace") press("⌫");
    else if (e.key === "Enter") press("OK");
  };
  document.addEventListener("keydown", onKey);
  draw();
  screen(
    "Enter your PIN",
    h("div", { class: "pin-wrap" },
      h("div", { class: "avatar" }, initials(person.name)),
      h("h1", {}, person.name),
      h("p", { class: "lead" }, "Enter your PIN"),
      dots, pad, err,
      h("button", { class: "btn ghost", onclick: () => showPairCode(code) }, "Not you?")),
  );
  cleanup.push(() => document.removeEventListener("keydown", onKey));
}

// --- zones and customers -----------------------------------------------------------------

function showZones() {
  menuBtn.hidden = false;
  const zones = me.zones || [];
  screen(
    me.salesperson_name,
    h("h1", {}, `Hello ${me.salesperson_name}`),
    h("p", { class: "lead" }, "Choose the zone you are working in."),
    zones.length
      ? h("div", { class: "grid" }, ...zones.map((z) =>
        h("button", { class: "choice", "data-zone": z, onclick: () => { store.set("zone", z); showCustomers(z); } },
          h("strong", {}, z), h("span", {}, "See customers here"))))
      : h("div", { class: "empty" }, "No zone is assigned to you yet. Ask your manager."),
  );
}

const shown = new Set(); // visitor ids already drawn once (only new cards animate)

function customerCard(zone, c, now) {
  const fresh = !shown.has(c.visitor_id);
  shown.add(c.visitor_id);
  const busy = c.served_by && c.served_by !== me.salesperson_name;
  const isNew = c.present && now - c.entered_at < 60;
  const badge = !c.present ? h("span", { class: "badge left" }, "Left")
    : c.served_by ? h("span", { class: "badge serving" }, `With ${c.served_by}`)
      : isNew ? h("span", { class: "badge" }, "New") : null;
  return h("button", {
    class: `customer${c.present ? "" : " gone"}${busy ? " busy" : ""}${fresh ? " fresh" : ""}`,
    "data-visitor": c.visitor_id,
    onclick: () => startService(zone, c),
  },
  thumb(zone, c),
  badge,
  h("div", { class: "meta" },
    h("span", { class: "since" }, c.present ? ago(now - c.entered_at) : "Just left"),
    h("span", { class: "sub" }, c.present ? "in this zone" : `was here ${ago((c.left_at || now) - c.entered_at)}`),
    h("span", { class: "cta" }, busy ? "Being served" : "Start service →")));
}

function showCustomers(zone) {
  if (!me.zones.includes(zone)) { showZones(); return; }
  menuBtn.hidden = false;
  const grid = h("div", { class: "customers" });
  const count = h("span", { class: "counter" });
  const empty = h("div", { class: "empty" },
    h("img", { class: "big", src: "people.svg", alt: "" }), h("div", {}, "No customers in this zone right now."),
    h("div", { class: "muted" }, "They appear here as soon as the cameras see them."));
  let list = [];
  const draw = () => {
    const now = live ? live.now() : Date.now() / 1000;
    if (live) list = live.list(); // people who left a while ago age out
    clear(grid);
    for (const c of list) grid.append(customerCard(zone, c, now));
    const here = list.filter((c) => c.present).length;
    count.textContent = here === 1 ? "1 customer here" : `${here} customers here`;
    empty.hidden = list.length > 0;
  };
  screen(
    `${zone} · ${me.salesperson_name}`,
    h("div", { class: "zone-head" },
      h("div", {}, h("h1", {}, zone), count),
      h("div", { class: "bar" },
        h("button", { class: "btn", onclick: () => startService(zone, null) }, "＋ Walk-in service"),
        h("button", { class: "btn ghost", id: "my-services", onclick: showMyServices }, "My services today"),
        me.zones.length > 1 ? h("button", { class: "btn ghost", onclick: showZones }, "Change zone") : null)),
    grid, empty,
  );
  setMode("customers");
  if (live) live.stop();
  live = new LiveZone(zone, {
    onList: (l) => { list = l; draw(); },
    onState: setNet,
    onAuthLost: (e) => { if (e.status === 401) authLost(); else showZones(); },
  });
  live.start();
  const timer = setInterval(draw, 5000);
  cleanup.push(() => clearInterval(timer), () => { if (live) { live.stop(); live = null; } });
  draw();
}

// --- service -----------------------------------------------------------------------------

function startService(zone, customer) {
  if (customer && customer.served_by && customer.served_by !== me.salesperson_name) {
    toast(`${customer.served_by} is already serving this customer.`);
    return;
  }
  const session = {
    id: uuid(), zone, visitor_id: customer ? customer.visitor_id : "",
    has_crop: !!(customer && customer.has_crop), started: Date.now(), items: [],
  };
  store.set("session", session);
  queue.enqueue({
    id: `start-${session.id}`, kind: "start", ref: session.id, method: "POST", path: "/api/v1/sessions",
    body: { id: session.id, zone, visitor_id: session.visitor_id, ts: session.started / 1000 },
  });
  showService();
}

// Record a code in the service (no question asked): the offline queue sends it.
// opts: confirmed (a code that is neither a valid EAN/UPC nor in the catalogue, the
// salesperson said yes), product and ts (an undone removal).
function addScan(barcode, opts = {}) {
  const code = String(barcode).trim();
  const session = store.get("session");
  if (!session || !/^[\x21-\x7E]{1,64}$/.test(code)) {
    toast("That does not look like a barcode.", true);
    return null;
  }
  const item = {
    key: uuid(), barcode: code, product: opts.product || null, state: "queued", ts: opts.ts || Date.now(),
  };
  session.items.push(item);
  store.set("session", session);
  queue.enqueue({
    id: `scan-${item.key}`, kind: "scan", ref: item.key, method: "POST",
    path: `/api/v1/sessions/${session.id}/scans`,
    body: { barcode: code, idempotency_key: item.key, ts: item.ts / 1000, confirmed: !!opts.confirmed },
  });
  renderItems();
  return item;
}

// A code from the field, a scanner or the camera: a valid EAN/UPC or a catalogue code is
// added at once; anything else ("abc", a wrong check digit) only if the salesperson says so.
async function scanCode(barcode) {
  const code = String(barcode).trim();
  if (!store.get("session")) return null;
  if (!/^[\x21-\x7E]{1,64}$/.test(code)) {
    toast("That does not look like a barcode.", true);
    return null;
  }
  if (isValidGtin(code)) return addScan(code);
  let product = null;
  let offline = false;
  try {
    product = await api.product(code);
  } catch (e) {
    if (e.status === 401) { authLost(); return null; }
    offline = e.transient;
  }
  if (product) return addScan(code, { product });
  const text = offline && codeDoubt(code).endsWith("not in the catalogue.")
    ? `“${code}” is not an EAN or UPC barcode, and the catalogue cannot be checked now (no answer from the store server).`
    : codeDoubt(code);
  const yes = await confirmSheet({
    title: "Add this code?", text, ok: "Add anyway", cancel: "Don't add", safe: true,
  });
  return yes && store.get("session") ? addScan(code, { confirmed: true }) : null;
}

// Remove the latest scan of a barcode from the open service; Undo puts it back.
function removeItem(barcode) {
  const s = store.get("session");
  if (!s) return;
  const idx = s.items.map((x) => x.barcode).lastIndexOf(barcode);
  if (idx < 0) return;
  const [it] = s.items.splice(idx, 1);
  store.set("session", s);
  queue.enqueue({
    id: `unscan-${it.key}`, kind: "unscan", ref: it.key, method: "DELETE",
    path: `/api/v1/sessions/${s.id}/scans/${encodeURIComponent(it.key)}`,
  });
  renderItems();
  const name = it.product ? it.product.name : it.barcode;
  toast(`Removed ${name}.`, false, {
    label: "Undo",
    fn: () => {
      const now = store.get("session");
      if (now && now.id === s.id) addScan(it.barcode, { confirmed: true, product: it.product, ts: it.ts });
    },
  }, 7000);
}

let renderItems = () => {};

// The counting rule (the same as the store's reports): an item scanned twice in one
// service is one item shown, drawn once with "×2", and its price counts once.
function groupItems(items) {
  const by = new Map();
  for (const it of items) {
    const g = by.get(it.barcode) || { barcode: it.barcode, product: null, state: "saved", count: 0, ts: 0 };
    g.count += 1;
    g.product = g.product || it.product;
    if (it.state === "queued") g.state = "queued";
    g.ts = Math.max(g.ts, it.ts || 0);
    by.set(it.barcode, g);
  }
  return [...by.values()].sort((a, b) => b.ts - a.ts);
}

function itemsValue(groups) {
  return groups.reduce((t, g) => t + (g.product ? g.product.price : 0), 0);
}

function itemRow(g, removable = false) {
  const p = g.product;
  const name = p ? p.name : g.state === "queued" ? "Looking up…" : "Not in the catalogue";
  return h("li", { class: `item${p || g.state === "queued" ? "" : " unknown"}`, "data-barcode": g.barcode, "data-count": g.count },
    h("div", { class: "ico" }, p ? initials(p.name) : "?"),
    h("div", { class: "what" },
      h("div", { class: "name" }, name),
      h("div", { class: "code" }, p && p.category ? `${p.category} · ${g.barcode}` : g.barcode)),
    g.count > 1 ? h("span", { class: "qty", title: `Scanned ${g.count} times: one item shown, its price counted once` }, `×${g.count}`) : null,
    g.state === "queued" ? h("span", { class: "state" }, "Sending") : null,
    h("div", { class: "price" }, p ? money(p.price) : ""),
    removable ? h("button", {
      class: "remove", "aria-label": `Remove ${p ? p.name : g.barcode}`, title: "Remove this scan",
      onclick: () => removeItem(g.barcode),
    }, "✕") : null);
}

function totalsLine(groups) {
  const n = groups.length;
  return [h("span", { id: "items-count" }, `${n} item${n === 1 ? "" : "s"} shown`), h("strong", { id: "items-value" }, money(itemsValue(groups)))];
}

function showService() {
  const session = store.get("session");
  if (!session) { showCustomers(store.get("zone")); return; }
  menuBtn.hidden = true;
  const timer = h("div", { class: "timer" }, "0:00");
  const list = h("ul", { class: "items", id: "items" });
  const totals = h("div", { class: "totals" });
  const hint = h("p", { class: "hint", id: "scan-hint" }, "Use the camera, a barcode scanner, or type the number.");
  const input = h("input", {
    id: "barcode", inputmode: "numeric", autocomplete: "off", enterkeyhint: "done",
    placeholder: "Scan or type a barcode", "aria-label": "Barcode",
  });
  const add = () => {
    const v = input.value.trim();
    input.value = "";
    if (v) scanCode(v).then(() => input.focus());
    else input.focus();
  };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  renderItems = () => {
    const s = store.get("session");
    if (!s) return;
    const groups = groupItems(s.items);
    clear(list);
    for (const g of groups) list.append(itemRow(g, true));
    if (!groups.length) list.append(h("li", { class: "empty" }, "Items you show will appear here."));
    clear(totals);
    totals.append(...totalsLine(groups));
  };
  const camBtn = h("button", {
    class: "btn", id: "camera-btn",
    onclick: () => showCamera((msg) => {
      hint.textContent = msg;
      hint.classList.add("bad");
      input.focus();
    }),
  }, cameraIcon(), "Camera");
  screen(
    `Serving · ${session.zone}`,
    h("div", { class: "service" },
      h("div", { class: "card who" },
        thumb(session.zone, session.visitor_id ? { visitor_id: session.visitor_id, has_crop: session.has_crop } : null),
        h("div", { class: "who-text" }, timer,
          h("div", { class: "muted" }, session.visitor_id ? "with this customer" : "walk-in customer")),
        h("div", { class: "bar" },
          h("button", { class: "btn strong block", id: "end-service", onclick: endService }, "End service"))),
      h("div", { class: "card" },
        h("h2", {}, "Items shown"),
        h("div", { class: "scan-row" }, input,
          h("button", { class: "btn primary", id: "add-btn", onclick: add }, "Add"), camBtn),
        hint,
        list, totals)),
  );
  setMode("service");
  renderItems();
  const tick = () => { timer.textContent = clock((Date.now() - session.started) / 1000); };
  tick();
  const t = setInterval(tick, 1000);
  cleanup.push(() => clearInterval(t), listenForScanner(scanCode), () => { renderItems = () => {}; });
  input.focus();
}

// The camera sheet (camera-sheet.js); any other screen closes it. When the camera cannot
// start, the sheet closes by itself and onError(message) says why beside the code field.
let closeCamera = null;

function showCamera(onError) {
  if (closeCamera) return;
  closeCamera = openCameraSheet({
    addScan: scanCode,
    findItem: (key) => { const s = store.get("session"); return s && s.items.find((x) => x.key === key); },
    prefer: store.get("decoder", "auto"), // localStorage vitrine.decoder = "\"zxing\"" forces ZXing
    onClosed: () => { closeCamera = null; },
    onError: (msg) => { toast(msg, true, null, 6000); onError(msg); },
  });
  cleanup.push(closeCamera);
}

function endService() {
  const session = store.get("session");
  if (!session) return;
  queue.enqueue({
    id: `end-${session.id}`, kind: "end", ref: session.id, method: "POST",
    path: `/api/v1/sessions/${session.id}/end`, body: { ts: Date.now() / 1000 },
  });
  store.set("session", null);
  store.set("last", { ...session, ended: Date.now(), outcome: "", note: "" });
  showSummary();
}

const OUTCOMES = [
  ["bought", "Bought"], ["coming_back", "Will come back"], ["just_looking", "Just looking"], ["not_in_stock", "Not in stock"],
];
const OUTCOME_LABEL = Object.fromEntries(OUTCOMES);

function saveOutcome(sessionId, outcome, note) {
  const last = store.get("last");
  if (last && last.id === sessionId) store.set("last", { ...last, outcome, note });
  queue.enqueue({
    id: `outcome-${sessionId}-${Date.now()}`, kind: "outcome", ref: sessionId, method: "PUT",
    path: `/api/v1/sessions/${sessionId}/outcome`, body: { outcome, note },
  });
}

function outcomeCard(s) {
  let chosen = s.outcome || "";
  let saved = { outcome: chosen, note: s.note || "" };
  const state = h("span", { class: "muted", id: "outcome-state" }, chosen ? "Saved." : "");
  const note = h("textarea", {
    class: "note", id: "service-note", maxlength: "500", rows: "2",
    placeholder: "Note (optional): size or colour asked for, when they come back…", "aria-label": "Note",
  });
  note.value = s.note || "";
  const save = () => {
    const v = note.value.trim();
    if (chosen === saved.outcome && v === saved.note) return;
    saved = { outcome: chosen, note: v };
    saveOutcome(s.id, chosen, v);
    state.textContent = "Saved.";
  };
  const chips = OUTCOMES.map(([key, label]) => h("button", {
    class: "chip", "data-outcome": key, "aria-pressed": String(key === chosen),
    onclick: (e) => {
      chosen = chosen === key ? "" : key;
      for (const c of chips) c.setAttribute("aria-pressed", String(c.dataset.outcome === chosen));
      save();
      e.currentTarget.blur();
    },
  }, label));
  note.addEventListener("input", () => { state.textContent = ""; });
  note.addEventListener("blur", save);
  return {
    save,
    el: h("div", { class: "card outcome" },
      h("h2", {}, "How did it go?"),
      h("div", { class: "chips", role: "group", "aria-label": "Outcome" }, ...chips),
      note,
      h("div", { class: "outcome-bar" }, state,
        h("button", { class: "btn", id: "save-note", onclick: save }, "Save note"))),
  };
}

function showSummary(server = null) {
  const s = store.get("last");
  if (!s) { showCustomers(store.get("zone")); return; }
  menuBtn.hidden = false;
  const groups = groupItems(server
    ? server.items.map((i) => ({ barcode: i.barcode, product: i.product, state: "saved", ts: i.ts }))
    : s.items);
  const total = server ? server.total : itemsValue(groups);
  const secs = server ? server.duration_s : (s.ended - s.started) / 1000;
  const outcome = outcomeCard(s);
  screen(
    "Service summary",
    h("div", { class: "done-head" },
      h("div", { class: "check" }, "✓"),
      h("div", {}, h("h1", {}, "Service ended"),
        h("span", { class: "counter" }, server ? "Saved on the store server." : "Saving…"))),
    h("div", { class: "summary-hero" },
      h("div", { class: "stat" }, h("b", {}, clock(secs)), h("span", {}, "duration")),
      h("div", { class: "stat" }, h("b", { id: "summary-items" }, String(groups.length)), h("span", {}, "items shown")),
      h("div", { class: "stat" }, h("b", { id: "summary-value" }, money(total)), h("span", {}, "value shown"))),
    outcome.el,
    h("div", { class: "card summary" }, h("h2", {}, "Items"),
      h("ul", { class: "items" }, ...(groups.length ? groups.map((g) => itemRow(g)) : [h("li", { class: "empty" }, "No items were scanned.")]))),
    h("div", { class: "bar" },
      h("button", {
        class: "btn primary", id: "back-to-customers",
        onclick: () => { outcome.save(); showCustomers(s.zone); },
      }, "Back to customers"),
      h("button", { class: "btn", onclick: () => { outcome.save(); showMyServices(); } }, "My services today")),
  );
}

// --- my services today -----------------------------------------------------------------------

async function showMyServices() {
  menuBtn.hidden = false;
  const count = h("span", { class: "counter", id: "my-count" }, "Loading…");
  const list = h("ul", { class: "services", id: "my-services-list" });
  const back = () => showCustomers(store.get("zone") || me.zones[0]);
  screen("My services today",
    h("div", { class: "zone-head" },
      h("div", {}, h("h1", {}, "My services today"), count),
      h("div", { class: "bar" }, h("button", { class: "btn primary", id: "my-back", onclick: back }, "Back to customers"))),
    list);
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  let rows;
  try {
    rows = (await api.myServices(midnight.getTime() / 1000)).sessions;
  } catch (e) {
    if (e.status === 401) { authLost(); return; }
    count.textContent = `Could not load them: ${e.message}.`;
    return;
  }
  if (!document.body.contains(list)) return; // another screen meanwhile
  const bought = rows.filter((r) => r.outcome === "bought").length;
  count.textContent = `${rows.length} service${rows.length === 1 ? "" : "s"}${rows.length ? ` · ${bought} bought` : ""}`;
  if (!rows.length) list.append(h("li", { class: "empty" }, "No service yet today."));
  for (const r of rows) {
    const at = new Date(r.started_at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    list.append(h("li", { class: "svc", "data-session": r.id },
      h("div", { class: "svc-time" }, h("strong", {}, at), h("span", {}, r.ended_at ? clock(r.duration_s) : "open")),
      h("div", { class: "svc-main" },
        h("div", {}, h("strong", {}, r.zone), h("span", { class: "muted" },
          ` · ${r.items_shown} item${r.items_shown === 1 ? "" : "s"} · ${money(r.total)}`)),
        r.note ? h("div", { class: "svc-note" }, r.note) : null),
      r.outcome ? h("span", { class: `pill ${r.outcome}` }, OUTCOME_LABEL[r.outcome] || r.outcome) : h("span", { class: "pill none" }, "No outcome")));
  }
}

// --- queue feedback ----------------------------------------------------------------------

queue.onChange((evt) => {
  if (evt.type === "done" || evt.type === "failed") reachable = true;
  else if (evt.type === "retry") reachable = !(evt.error && evt.error.status === 0);
  renderNet();
  if (evt.type === "done" && evt.action.kind === "scan") {
    const s = store.get("session");
    const it = s && s.items.find((x) => x.key === evt.action.ref);
    if (it) { it.state = "saved"; it.product = evt.result.product; store.set("session", s); renderItems(); }
  } else if (evt.type === "done" && evt.action.kind === "end") {
    const last = store.get("last");
    if (last && last.id === evt.action.ref && titleEl.textContent === "Service summary") showSummary(evt.result);
  } else if (evt.type === "failed") {
    if (evt.error.status === 401) { authLost(); return; }
    toast(evt.error.message, true);
    const s = store.get("session");
    if (evt.action.kind === "scan" && s) {
      s.items = s.items.filter((x) => x.key !== evt.action.ref);
      store.set("session", s);
      renderItems();
    }
  }
});

netEl.addEventListener("click", showNetHelp);

async function unpair() {
  const yes = await confirmSheet({
    title: "Unpair this tablet?",
    text: `${me.salesperson_name} will need a new pairing code from the store computer, and their PIN, to use this tablet again.`,
    ok: "Unpair", cancel: "Keep it paired", danger: true, safe: true,
  });
  if (!yes) return;
  setToken("");
  store.set("me", null);
  showPairCode();
}

menuBtn.addEventListener("click", () => {
  menuBtn.hidden = true;
  screen("Settings",
    h("h1", {}, "This tablet"),
    h("p", { class: "lead" }, `Paired to ${me.salesperson_name}.`),
    h("div", { class: "bar" },
      h("button", { class: "btn primary", id: "settings-back", onclick: () => showCustomers(store.get("zone") || me.zones[0]) }, "Back"),
      h("button", { class: "btn", onclick: showMyServices }, "My services today"),
      me.zones.length > 1 ? h("button", { class: "btn", onclick: showZones }, "Change zone") : null),
    h("div", { class: "danger-zone" },
      h("h2", {}, "Unpair"),
      h("p", { class: "muted" }, "Only when this tablet changes hands: it stops showing customers until it is paired again."),
      h("button", { class: "btn danger", id: "unpair", onclick: unpair }, "Unpair this tablet")));
});

// --- start ---------------------------------------------------------------------------------

async function boot() {
  const m = location.hash.match(/pair=([A-Za-z0-9]+)/);
  if (m) {
    try {
      showPeople(m[1].toUpperCase(), await api.pairingInfo(m[1]));
    } catch (e) {
      showPairCode(m[1].toUpperCase());
      toast(e.message, true);
    }
    return;
  }
  if (!getToken()) { showPairCode(); return; }
  try {
    me = await api.me();
    store.set("me", me);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { authLost(); return; }
    if (!me) { showPairCode(); return; }
    reachable = false;
    renderNet();
  }
  queue.kick();
  if (store.get("session")) { showService(); return; }
  const zone = store.get("zone");
  if (zone && me.zones.includes(zone)) showCustomers(zone);
  else if (me.zones.length === 1) { store.set("zone", me.zones[0]); showCustomers(me.zones[0]); }
  else showZones();
}

window.addEventListener("hashchange", () => { if (location.hash.includes("pair=")) boot(); });
renderNet();
boot();
