// Barcode decoding off the main thread, with the vendored ZXing (see ../vendor/README.md),
// for browsers without a usable BarcodeDetector. A classic worker (importScripts works in
// every tablet browser, module workers do not).
//
// In:  {id, width, height, data, still}  (data: RGBA bytes of one frame, transferred;
//       still: an image rather than a camera frame, read in both orientations)
// Out: {id, codes: [{rawValue, format}]}  (format in BarcodeDetector's names, e.g. "ean_13")
// On start it posts {ready: true} once ZXing has loaded, or {ready: false, error}.

/* global ZXing */

let reader = null;

try {
  importScripts("../vendor/zxing-library.min.js");
  const F = ZXing.BarcodeFormat;
  const hints = new Map();
  hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS,
    [F.EAN_13, F.EAN_8, F.UPC_A, F.UPC_E, F.CODE_128, F.CODE_39, F.QR_CODE]);
  hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
  reader = new ZXing.MultiFormatReader();
  reader.setHints(hints);
  postMessage({ ready: true });
} catch (err) {
  postMessage({ ready: false, error: String(err && err.message ? err.message : err) });
}

function grey(rgba, n) {
  const out = new Uint8ClampedArray(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) out[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
  return out;
}

// The frame turned a quarter (a barcode held upright is read across its bars).
function turned(lum, w, h) {
  const out = new Uint8ClampedArray(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out[x * h + (h - 1 - y)] = lum[y * w + x];
  }
  return out;
}

function decode(lum, w, h) {
  try {
    const source = new ZXing.RGBLuminanceSource(lum, w, h);
    const r = reader.decodeWithState(new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(source)));
    return { rawValue: r.getText(), format: String(ZXing.BarcodeFormat[r.getBarcodeFormat()]).toLowerCase() };
  } catch (_) {
    return null; // nothing readable in this frame (not found, bad check digit, ...)
  } finally {
    reader.reset();
  }
}

let misses = 0;

onmessage = (e) => {
  const { id, width, height, data, still } = e.data;
  if (!reader) { postMessage({ id, codes: [] }); return; }
  const lum = grey(data, width * height);
  let found = decode(lum, width, height);
  // A miss costs 150-500 ms on a 960 px frame (shared 2-core test machine): read the
  // frame turned a quarter only on every other miss of the camera (always on a still).
  if (!found && (still || ++misses % 2 === 0)) found = decode(turned(lum, width, height), height, width);
  if (found) misses = 0;
  postMessage({ id, codes: found ? [found] : [] });
};
