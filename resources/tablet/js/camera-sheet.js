// The camera scan sheet: a live preview, what the camera is doing, the last item it added.
// A code read here goes to the caller's addScan, the same road as a typed code (offline
// queue, idempotency key). Done, leaving the screen, or hiding the page stops the camera.

import * as queue from "./queue.js";
import { CameraError, CameraScanner } from "./scanner.js";
import { h, clear, money } from "./ui.js";

// addScan(code) -> item | null (or a promise of it: the app may ask first); findItem(key)
// -> the session's item (with its product once the server answered); prefer: "auto" |
// "zxing". Returns close(); onClosed runs once. If the camera cannot start, the sheet
// closes by itself (an empty viewfinder helps nobody) and onError(message) says why.
export function openCameraSheet({ addScan, findItem, prefer = "auto", onClosed = () => {}, onError = () => {} }) {
  const video = h("video", { muted: true, playsinline: true, autoplay: true });
  const status = h("div", { class: "cam-status", id: "cam-status", "data-state": "starting" }, "Starting the camera…");
  const last = h("div", { class: "cam-last", id: "cam-last", hidden: true });
  const overlay = h("div", { class: "camera", role: "dialog", "aria-label": "Scan with the camera" },
    video, h("div", { class: "frame" }), h("div", { class: "cam-top" }, status),
    h("div", { class: "cam-bar" }, last, h("button", { class: "btn", id: "cam-done", onclick: () => close() }, "Done")));
  let added = 0;
  let closed = false;
  const showLast = (item) => {
    const p = item.product;
    clear(last);
    last.append(h("span", { class: "tick" }, "✓"),
      h("div", {}, h("strong", {}, p ? p.name : item.barcode),
        h("span", {}, p ? `${money(p.price)} · ${item.barcode}` : item.state === "queued" ? "Adding…" : "Not in the catalogue")),
      h("span", { class: "count" }, `${added} added`));
    last.dataset.barcode = item.barcode;
    last.dataset.key = item.key;
    last.hidden = false;
  };
  const scanner = new CameraScanner(video, {
    prefer,
    onState: (state, text) => { status.dataset.state = state; status.textContent = text; },
    onCode: (code) => {
      Promise.resolve(addScan(code)).then((item) => {
        if (item && !closed) { added += 1; showLast(item); }
      });
    },
  });
  const unwatch = queue.onChange((evt) => {
    if (evt.type !== "done" || evt.action.kind !== "scan" || evt.action.ref !== last.dataset.key) return;
    const it = findItem(evt.action.ref);
    if (it) showLast(it);
  });
  const onHide = () => { if (document.visibilityState === "hidden") close(); };
  const close = () => {
    if (closed) return;
    closed = true;
    scanner.stop();
    unwatch();
    document.removeEventListener("visibilitychange", onHide);
    window.removeEventListener("pagehide", close);
    overlay.remove();
    onClosed();
  };
  document.addEventListener("visibilitychange", onHide);
  window.addEventListener("pagehide", close);
  document.body.append(overlay);
  scanner.start().catch((err) => {
    if (closed) return;
    close();
    onError(err instanceof CameraError ? err.message : `The camera could not start (${err.message}).`);
  });
  return close;
}
