// Barcode input: the camera (BarcodeDetector, where the browser has it), a Bluetooth or
// USB scanner (a keyboard that types the code and Enter), or typing by hand.

export const cameraSupported = () =>
  "BarcodeDetector" in window && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);

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

export async function openCamera(container, onCode) {
  const detector = new window.BarcodeDetector({
    formats: ["ean_13", "ean_8", "upc_a", "upc_e", "code_128", "code_39", "qr_code"],
  });
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 1280 } },
    audio: false,
  });
  const video = container.querySelector("video");
  video.srcObject = stream;
  video.setAttribute("playsinline", "");
  await video.play();
  let stopped = false;
  let lastCode = "";
  let lastAt = 0;
  const tick = async () => {
    if (stopped) return;
    try {
      const codes = await detector.detect(video);
      const now = performance.now();
      for (const c of codes) {
        if (c.rawValue && (c.rawValue !== lastCode || now - lastAt > 2500)) {
          lastCode = c.rawValue;
          lastAt = now;
          if (navigator.vibrate) navigator.vibrate(60);
          onCode(c.rawValue);
        }
      }
    } catch (_) { /* a frame that could not be read */ }
    setTimeout(tick, 200);
  };
  tick();
  return () => {
    stopped = true;
    stream.getTracks().forEach((t) => t.stop());
    video.srcObject = null;
  };
}
