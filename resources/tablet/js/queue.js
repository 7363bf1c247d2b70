// The offline action queue: every write (start service, scan, end service) is queued in
// localStorage first and sent in order, retried with backoff until the server answers.
// Each action carries an idempotency key (the session id, the scan key), so a retry after
// a lost answer never records anything twice.

import { ApiError, request } from "./api.js";

const KEY = "vitrine.queue";
const listeners = new Set();
let running = false;
let wake = null;

function load() {
  try {
    return JSON.parse(localStorage.getItem(KEY) || "[]");
  } catch (_) {
    return [];
  }
}

function save(items) {
  localStorage.setItem(KEY, JSON.stringify(items));
}

export function pending() {
  return load();
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(evt) {
  for (const fn of listeners) {
    try { fn(evt); } catch (e) { console.error(e); }
  }
}

export function enqueue(action) {
  // action: {id, method, path, body, kind, ref}
  const items = load();
  items.push({ ...action, queuedAt: Date.now(), tries: 0 });
  save(items);
  emit({ type: "queued", action });
  kick();
}

export function kick() {
  if (wake) wake();
  if (!running) run();
}

function sleep(ms) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    wake = () => { clearTimeout(t); resolve(); };
  });
}

async function run() {
  running = true;
  let backoff = 500;
  try {
    for (;;) {
      const items = load();
      if (!items.length) break;
      const action = items[0];
      try {
        const result = await request(action.method, action.path, action.body);
        save(load().filter((a) => a.id !== action.id));
        backoff = 500;
        emit({ type: "done", action, result });
      } catch (err) {
        if (err instanceof ApiError && !err.transient) {
          // The server said no for good (401 revoked, 403, 404, 409, 422): drop it.
          save(load().filter((a) => a.id !== action.id));
          emit({ type: "failed", action, error: err });
          if (err.status === 401) break;
          continue;
        }
        const all = load();
        if (all.length && all[0].id === action.id) {
          all[0].tries += 1;
          save(all);
        }
        emit({ type: "retry", action, error: err, waitMs: backoff });
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 8000);
      }
    }
  } finally {
    running = false;
    wake = null;
    emit({ type: "idle" });
  }
}

window.addEventListener("online", kick);
