// Vitrine tablet app: pair, pick a zone, see customers live, serve one, scan what they
// are shown, end the service, see its summary. Plain ES modules, no build step.

import { api, ApiError, getToken, setToken, uuid } from "./api.js";
import * as queue from "./queue.js";
import { LiveZone } from "./live.js";
import { openCameraSheet } from "./camera-sheet.js";
import { listenForScanner } from "./scanner.js";
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
let liveState = "idle";
const crops = new Map(); // visitor_id -> object URL (or a pending promise)

// --- small helpers ------------------------------------------------------------------

function toast(text, bad = false) {
  toastEl.textContent = text;
  toastEl.classList.toggle("bad", bad);
  toastEl.hidden = false;
  clearTimeout(toast.t);
  toast.t = setTimeout(() => { toastEl.hidden = true; }, 3200);
}

function setNet(state) {
  liveState = state;
  renderNet();
}

function renderNet() {
  const waiting = queue.pending().length;
  let state = liveState;
  let text = { live: "Live", connecting: "Connecting…", offline: "Offline", idle: "Ready" }[state] || state;
  if (waiting) {
    text = `${waiting} to send`;
    if (state === "live") state = "connecting";
  }
  netEl.dataset.state = state;
  netText.textContent = text;
}

function screen(title, ...children) {
  for (const fn of cleanup.splice(0)) fn();
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
  toast("This tablet is no longer paired. Pair it again.", true);
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
        me.zones.length > 1 ? h("button", { class: "btn ghost", onclick: showZones }, "Change zone") : null)),
    grid, empty,
  );
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

function addScan(barcode) {
  const code = String(barcode).trim();
  const session = store.get("session");
  if (!session || !/^[\x21-\x7E]{1,64}$/.test(code)) {
    toast("That does not look like a barcode.", true);
    return null;
  }
  const item = { key: uuid(), barcode: code, product: null, state: "queued", ts: Date.now() };
  session.items.push(item);
  store.set("session", session);
  queue.enqueue({
    id: `scan-${item.key}`, kind: "scan", ref: item.key, method: "POST",
    path: `/api/v1/sessions/${session.id}/scans`,
    body: { barcode: code, idempotency_key: item.key, ts: item.ts / 1000 },
  });
  renderItems();
  return item;
}

let renderItems = () => {};

function itemRow(it) {
  const p = it.product;
  return h("li", { class: `item${p || it.state === "queued" ? "" : " unknown"}`, "data-barcode": it.barcode },
    h("div", { class: "ico" }, p ? initials(p.name) : "?"),
    h("div", {},
      h("div", { class: "name" }, p ? p.name : it.state === "queued" ? "Looking up…" : "Not in the catalog"),
      h("div", { class: "code" }, p && p.category ? `${p.category} · ${it.barcode}` : it.barcode)),
    it.state === "queued" ? h("span", { class: "state" }, "Sending") : null,
    h("div", { class: "price" }, p ? money(p.price) : ""));
}

function showService() {
  const session = store.get("session");
  if (!session) { showCustomers(store.get("zone")); return; }
  menuBtn.hidden = true;
  const timer = h("div", { class: "timer" }, "0:00");
  const list = h("ul", { class: "items" });
  const totals = h("div", { class: "totals" });
  const input = h("input", {
    id: "barcode", inputmode: "numeric", autocomplete: "off", enterkeyhint: "done",
    placeholder: "Scan or type a barcode", "aria-label": "Barcode",
  });
  const add = () => { if (input.value.trim()) { addScan(input.value); input.value = ""; } input.focus(); };
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); add(); } });
  renderItems = () => {
    const s = store.get("session");
    if (!s) return;
    clear(list);
    for (const it of [...s.items].reverse()) list.append(itemRow(it));
    if (!s.items.length) list.append(h("li", { class: "empty" }, "Items you show will appear here."));
    const total = s.items.reduce((t, it) => t + (it.product ? it.product.price : 0), 0);
    clear(totals);
    totals.append(h("span", {}, `${s.items.length} item${s.items.length === 1 ? "" : "s"} shown`), h("strong", {}, money(total)));
  };
  const camBtn = h("button", { class: "btn", id: "camera-btn", onclick: () => showCamera() }, cameraIcon(), "Camera");
  screen(
    `Serving · ${session.zone}`,
    h("div", { class: "service" },
      h("div", { class: "card who" },
        thumb(session.zone, session.visitor_id ? { visitor_id: session.visitor_id, has_crop: session.has_crop } : null),
        timer,
        h("div", { class: "muted" }, session.visitor_id ? "with this customer" : "walk-in customer"),
        h("div", { class: "bar" },
          h("button", { class: "btn danger block", id: "end-service", onclick: endService }, "End service"))),
      h("div", { class: "card" },
        h("h2", {}, "Items shown"),
        h("div", { class: "scan-row" }, input,
          h("button", { class: "btn primary", onclick: add }, "Add"), camBtn),
        h("p", { class: "hint" }, "Use the camera, a barcode scanner, or type the number."),
        list, totals)),
  );
  renderItems();
  const tick = () => { timer.textContent = clock((Date.now() - session.started) / 1000); };
  tick();
  const t = setInterval(tick, 1000);
  cleanup.push(() => clearInterval(t), listenForScanner(addScan), () => { renderItems = () => {}; });
  input.focus();
}

// The camera sheet (camera-sheet.js); any other screen closes it.
let closeCamera = null;

function showCamera() {
  if (closeCamera) return;
  closeCamera = openCameraSheet({
    addScan,
    findItem: (key) => { const s = store.get("session"); return s && s.items.find((x) => x.key === key); },
    prefer: store.get("decoder", "auto"), // localStorage vitrine.decoder = "\"zxing\"" forces ZXing
    onClosed: () => { closeCamera = null; },
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
  store.set("last", { ...session, ended: Date.now() });
  showSummary();
}

function showSummary(server = null) {
  const s = store.get("last");
  if (!s) { showCustomers(store.get("zone")); return; }
  menuBtn.hidden = false;
  const items = server ? server.items.map((i) => ({ barcode: i.barcode, product: i.product, state: "saved" })) : s.items;
  const total = server ? server.total : items.reduce((t, it) => t + (it.product ? it.product.price : 0), 0);
  const secs = server ? server.duration_s : (s.ended - s.started) / 1000;
  screen(
    "Service summary",
    h("div", { class: "done-head" },
      h("div", { class: "check" }, "✓"),
      h("div", {}, h("h1", {}, "Service ended"),
        h("span", { class: "counter" }, server ? "Saved on the store server." : "Saving…"))),
    h("div", { class: "summary-hero" },
      h("div", { class: "stat" }, h("b", {}, clock(secs)), h("span", {}, "duration")),
      h("div", { class: "stat" }, h("b", {}, String(items.length)), h("span", {}, "items shown")),
      h("div", { class: "stat" }, h("b", {}, money(total)), h("span", {}, "value shown"))),
    h("div", { class: "card summary" }, h("h2", {}, "Items"),
      h("ul", { class: "items" }, ...(items.length ? items.map(itemRow) : [h("li", { class: "empty" }, "No items were scanned.")]))),
    h("div", { class: "bar" },
      h("button", { class: "btn primary", id: "back-to-customers", onclick: () => showCustomers(s.zone) }, "Back to customers")),
  );
}

// --- queue feedback ----------------------------------------------------------------------

queue.onChange((evt) => {
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

menuBtn.addEventListener("click", () => {
  menuBtn.hidden = true;
  screen("Settings",
    h("h1", {}, "This tablet"),
    h("p", { class: "lead" }, `Paired to ${me.salesperson_name}.`),
    h("div", { class: "bar" },
      h("button", { class: "btn", onclick: showZones }, "Change zone"),
      h("button", { class: "btn", onclick: () => showCustomers(store.get("zone") || me.zones[0]) }, "Back"),
      h("button", { class: "btn danger", onclick: () => { setToken(""); store.set("me", null); showPairCode(); } }, "Unpair this tablet")));
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
    setNet("offline");
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
