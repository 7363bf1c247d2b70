// Barcode input: the camera (BarcodeDetector where the browser has it, else the vendored
// ZXing decoder), a Bluetooth or USB scanner (a keyboard that types the code and Enter),
// or typing by hand. Every code ends in the same place: the caller's onCode(code).

import { checkDigit } from "./codes.js";
import { createDecoder, DecoderError } from "./decoders.js";

export const HOLD_MS = 2000; // the same code seen again within this time is the same scan
const FRAME_MS = 150; // at most ~7 decodes a second: enough, and easy on the battery

// Keystrokes typed quickly while no text field has focus are a scanner: collect them.
export function listenForScanner(onCode) {
  let buf = "";
  let last = 0;
  const handler = (e) => {
    const t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA")) return;
    const now = performance.now();
    if (now - last > 80) buf = "";
    last = now;
    if (e.key === "Enter") {
      if (buf.length >= 3) onCode(buf);
      buf = "";
    } else if (e.key.length === 1) {
      buf += e.key;
    }
  };
  document.addEventListener("keydown", handler);
  return () => document.removeEventListener("keydown", handler);
}

// --- rules on codes (pure) -----------------------------------------------------------------

// the GTIN rule of codes.js (the same as the server's app/sync/gtin.py)
function gtinOk(digits) {
  return /^[0-9]+$/.test(digits) && checkDigit(digits.slice(0, -1)) === Number(digits[digits.length - 1]);
}

// UPC-E (8 digits: number system, 6 data digits, check) written out as its UPC-A.
function upcEtoA(code) {
  const [ns, a, b, c, d, e, f, check] = code;
  const body = f <= "2" ? `${a}${b}${f}0000${c}${d}${e}`
    : f === "3" ? `${a}${b}${c}00000${d}${e}`
      : f === "4" ? `${a}${b}${c}${d}00000${e}`
        : `${a}${b}${c}${d}${e}0000${f}`;
  return `${ns}${body}${check}`;
}

// A retail code's check digit must add up; other symbologies carry their own checks,
// which the decoders verify. (Decoders already refuse bad check digits: this is a second
// line for any decoder that does not.)
export function checkDigitOk(code, format) {
  switch (format) {
    case "ean_13": return code.length === 13 && gtinOk(code);
    case "ean_8": return code.length === 8 && gtinOk(code);
    case "upc_a": return (code.length === 12 || code.length === 13) && gtinOk(code);
    case "upc_e": return code.length === 8 && /^[01][0-9]{7}$/.test(code) && gtinOk(upcEtoA(code));
    default: return code.length > 0;
  }
}

// A code held in front of the camera is read many times a second: it counts once, and
// again only after it has been out of sight for `holdMs`.
export class HoldDebounce {
  constructor(holdMs = HOLD_MS) {
    this.holdMs = holdMs;
    this.seen = new Map(); // code -> when it was last read
  }

  accept(code, now) {
    const prev = this.seen.get(code);
    this.seen.set(code, now);
    if (this.seen.size > 64) {
      for (const [c, t] of this.seen) if (now - t > this.holdMs) this.seen.delete(c);
    }
    return prev === undefined || now - prev > this.holdMs;
  }
}

// --- the camera ----------------------------------------------------------------------------

export class CameraError extends Error {}

// Why the camera cannot even be tried here, or null.
export function cameraProblem() {
  if (!window.isSecureContext) {
    return "The camera needs the secure address of the store server (https://), and this page "
      + "was opened over plain http. Use a barcode scanner or type the number, or ask your "
      + "manager to turn HTTPS back on for the tablets.";
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return "This browser cannot use the camera. Use a barcode scanner or type the number.";
  }
  return null;
}

export function cameraErrorMessage(err) {
  const name = (err && err.name) || "";
  if (["NotAllowedError", "PermissionDeniedError", "SecurityError"].includes(name)) {
    return "Camera access was refused. Allow the camera for this page in the browser settings, "
      + "or use a barcode scanner or type the number.";
  }
  if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(name)) {
    return "No camera was found on this device. Use a barcode scanner or type the number.";
  }
  if (["NotReadableError", "TrackStartError", "AbortError"].includes(name)) {
    return "The camera is busy in another app. Close that app and try again.";
  }
  return `The camera could not start (${(err && err.message) || name || err}).`;
}

const CONSTRAINTS = {
  audio: false,
  video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
};

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Reads codes from the camera into onCode(code, format) until stop(). onState(state, text)
// tells the sheet what is happening: "starting", "scanning", "error".
export class CameraScanner {
  constructor(video, { onCode, onState = () => {}, prefer = "auto" }) {
    this.video = video;
    this.onCode = onCode;
    this.onState = onState;
    this.prefer = prefer;
    this.stopped = false;
    this.stream = null;
    this.decoding = null;
    this.debounce = new HoldDebounce();
  }

  async start() {
    const problem = cameraProblem();
    if (problem) throw new CameraError(problem);
    this.onState("starting", "Starting the camera…");
    this.decoding = createDecoder(this.prefer); // loads while the camera starts
    this.decoding.catch(() => {});
    try {
      this.stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    } catch (err) {
      this.stop();
      throw new CameraError(cameraErrorMessage(err));
    }
    if (this.stopped) { this.stop(); return; } // closed while the browser was asking
    const track = this.stream.getVideoTracks()[0];
    if (track) track.addEventListener("ended", () => this.onState("error", "The camera stopped. Tap Done and open it again."));
    this.video.muted = true;
    this.video.setAttribute("playsinline", "");
    this.video.srcObject = this.stream;
    try { await this.video.play(); } catch (_) { /* autoplay of a muted preview: frames still come */ }
    let decoder;
    try {
      decoder = await this.decoding;
    } catch (err) {
      this.stop();
      throw err instanceof DecoderError ? new CameraError(err.message) : err;
    }
    if (this.stopped) return;
    this.onState("scanning", "Point the camera at a barcode");
    this.loop(decoder);
  }

  async loop(decoder) {
    while (!this.stopped) {
      const t0 = performance.now();
      if (this.video.readyState >= 2 && !document.hidden) {
        let codes = [];
        try { codes = await decoder.detect(this.video); } catch (_) { /* an unreadable frame */ }
        if (this.stopped) break;
        for (const c of codes) this.found(String(c.rawValue || "").trim(), c.format, performance.now());
      }
      await pause(Math.max(30, FRAME_MS - (performance.now() - t0)));
    }
  }

  found(code, format, now) {
    if (!code || !checkDigitOk(code, format) || !this.debounce.accept(code, now)) return;
    if (navigator.vibrate) navigator.vibrate(60);
    this.onCode(code, format);
  }

  stop() {
    this.stopped = true;
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
    if (this.decoding) this.decoding.then((d) => d.close(), () => {});
  }
}
