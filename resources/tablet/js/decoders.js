// Barcode decoders for camera frames. The browser's own BarcodeDetector where it exists
// and reads retail codes (Chrome on Android, macOS, ChromeOS), else ZXing in a worker
// (iPad Safari, Firefox, Chromium on Linux and Windows). Both answer the same question:
// `await decoder.detect(videoOrImageData)` -> [{rawValue, format}], format in
// BarcodeDetector's names ("ean_13", "qr_code", ...).

export const FORMATS = ["ean_13", "ean_8", "upc_a", "upc_e", "code_128", "code_39", "qr_code"];
const MAX_SIDE = 960; // frames are scaled down to this before ZXing reads them

export class DecoderError extends Error {}

async function nativeDecoder() {
  if (!("BarcodeDetector" in window)) return null;
  let supported = [];
  try {
    supported = await window.BarcodeDetector.getSupportedFormats();
  } catch (_) {
    return null;
  }
  const formats = FORMATS.filter((f) => supported.includes(f));
  if (!formats.includes("ean_13")) return null; // present but unable to read retail codes
  const detector = new window.BarcodeDetector({ formats });
  return {
    name: "native",
    async detect(source) {
      const codes = await detector.detect(source);
      return codes.map((c) => ({ rawValue: c.rawValue, format: c.format }));
    },
    close() {},
  };
}

class ZXingDecoder {
  constructor() {
    this.name = "zxing";
    this.seq = 0;
    this.pending = new Map();
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.worker = new Worker(new URL("./barcode-worker.js", import.meta.url));
    this.ready = new Promise((resolve, reject) => {
      const fail = (why) => reject(new DecoderError(`The barcode reader could not be loaded (${why}).`));
      const timer = setTimeout(() => fail("timed out"), 15000);
      this.worker.onerror = (e) => { clearTimeout(timer); fail(e.message || "worker error"); };
      this.worker.onmessage = (e) => {
        if ("ready" in e.data) {
          clearTimeout(timer);
          if (e.data.ready) resolve(this); else fail(e.data.error);
          return;
        }
        const done = this.pending.get(e.data.id);
        if (done) { this.pending.delete(e.data.id); done(e.data.codes); }
      };
    });
  }

  frame(source) {
    if (typeof ImageData !== "undefined" && source instanceof ImageData) return source;
    const w0 = source.videoWidth || source.width;
    const h0 = source.videoHeight || source.height;
    if (!w0 || !h0) return null;
    const k = Math.min(1, MAX_SIDE / Math.max(w0, h0));
    const w = Math.round(w0 * k);
    const h = Math.round(h0 * k);
    if (this.canvas.width !== w) this.canvas.width = w;
    if (this.canvas.height !== h) this.canvas.height = h;
    this.ctx.drawImage(source, 0, 0, w, h);
    return this.ctx.getImageData(0, 0, w, h);
  }

  detect(source) {
    const still = typeof ImageData !== "undefined" && source instanceof ImageData;
    const img = this.frame(source);
    if (!img) return Promise.resolve([]);
    const id = ++this.seq;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, width: img.width, height: img.height, data: img.data, still }, [img.data.buffer]);
    });
  }

  close() {
    this.worker.terminate();
    for (const done of this.pending.values()) done([]);
    this.pending.clear();
  }
}

// prefer: "auto" (native when usable), "zxing" (always the vendored decoder).
export async function createDecoder(prefer = "auto") {
  if (prefer !== "zxing") {
    const native = await nativeDecoder();
    if (native) return native;
  }
  const z = new ZXingDecoder();
  try {
    return await z.ready;
  } catch (err) {
    z.close();
    throw err;
  }
}
