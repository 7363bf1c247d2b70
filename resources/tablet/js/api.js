// Talking to the store's Vitrine server: token in localStorage, JSON in and out.

const TOKEN_KEY = "vitrine.token";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
  }
  // A network failure or a server hiccup: worth retrying later.
  get transient() {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export function authHeaders() {
  const t = getToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

export async function request(method, path, body, { timeoutMs = 8000 } = {}) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers: { ...authHeaders(), ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: ctrl.signal,
      cache: "no-store",
    });
  } catch (err) {
    throw new ApiError(0, "no connection to the store server");
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let detail = "";
    try {
      const j = await res.json();
      detail = typeof j.detail === "string" ? j.detail : JSON.stringify(j.detail);
    } catch (_) { /* not JSON */ }
    throw new ApiError(res.status, detail);
  }
  const type = res.headers.get("content-type") || "";
  return type.includes("application/json") ? res.json() : res.blob();
}

export const api = {
  pairingInfo: (code) => request("GET", `/api/v1/pairing?code=${encodeURIComponent(code)}`),
  pair: (code, salespersonId, pin, label) =>
    request("POST", "/api/v1/pairing", { code, salesperson_id: salespersonId, pin, label }),
  me: () => request("GET", "/api/v1/me"),
  customers: (zone) => request("GET", `/api/v1/zones/${encodeURIComponent(zone)}/customers`),
  crop: (zone, visitor) =>
    request("GET", `/api/v1/zones/${encodeURIComponent(zone)}/customers/${encodeURIComponent(visitor)}/crop`),
  product: (barcode) => request("GET", `/api/v1/products/${encodeURIComponent(barcode)}`),
  session: (id) => request("GET", `/api/v1/sessions/${id}`),
  openSessions: () => request("GET", "/api/v1/sessions"),
  myServices: (since) => request("GET", `/api/v1/me/services?since=${Math.floor(since)}`),
};

// A v4 UUID; crypto.randomUUID exists only in secure contexts.
export function uuid() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
