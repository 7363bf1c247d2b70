// Live customer list for one zone: server-sent events read with fetch (so the token
// travels in a header, not in the URL), reconnecting with backoff; while the stream is
// down the list is polled so it never goes stale.

import { api, authHeaders } from "./api.js";

// A "Just left" card stays this long (the server forgets them after as long: LiveHub).
export const LEFT_KEEP_S = 120;

export class LiveZone {
  constructor(zone, { onList, onState, onAuthLost }) {
    this.zone = zone;
    this.onList = onList;
    this.onState = onState;
    this.onAuthLost = onAuthLost;
    this.customers = new Map();
    this.offset = 0; // server clock - local clock, seconds
    this.stopped = false;
    this.ctrl = null;
    this.pollTimer = null;
  }

  start() {
    this.connect(0);
  }

  stop() {
    this.stopped = true;
    if (this.ctrl) this.ctrl.abort();
    clearInterval(this.pollTimer);
  }

  now() {
    return Date.now() / 1000 + this.offset;
  }

  list() {
    // people who left after only a few seconds were passing through: not worth a card;
    // those who left more than LEFT_KEEP_S ago are gone for good
    const now = this.now();
    return [...this.customers.values()].filter(
      (c) => c.present || ((c.left_at || 0) - c.entered_at >= 10 && now - (c.left_at || now) < LEFT_KEEP_S)
    ).sort(
      (a, b) => (b.present - a.present) || (b.entered_at - a.entered_at)
    );
  }

  setServerTime(t) {
    if (typeof t === "number") this.offset = t - Date.now() / 1000;
  }

  replace(customers) {
    this.customers = new Map(customers.map((c) => [c.visitor_id, c]));
    this.onList(this.list());
  }

  startPolling() {
    if (this.pollTimer) return;
    const poll = async () => {
      try {
        const r = await api.customers(this.zone);
        this.setServerTime(r.server_time);
        this.replace(r.customers);
        this.onState("reachable");
      } catch (err) {
        if (err.status === 401 || err.status === 403) this.onAuthLost(err);
        else if (err.status === 0) this.onState("unreachable");
      }
    };
    poll();
    this.pollTimer = setInterval(poll, 3000);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async connect(attempt) {
    if (this.stopped) return;
    this.onState("connecting");
    this.ctrl = new AbortController();
    try {
      const res = await fetch(`/api/v1/zones/${encodeURIComponent(this.zone)}/events`, {
        headers: { ...authHeaders(), Accept: "text/event-stream" },
        signal: this.ctrl.signal,
        cache: "no-store",
      });
      if (res.status === 401 || res.status === 403) {
        this.onAuthLost({ status: res.status });
        return;
      }
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      this.stopPolling();
      this.onState("live");
      attempt = 0;
      await this.read(res.body.getReader());
    } catch (err) {
      if (this.stopped) return;
    }
    if (this.stopped) return;
    this.onState("offline");
    this.startPolling();
    const wait = Math.min(1000 * 2 ** attempt, 10000);
    setTimeout(() => this.connect(attempt + 1), wait);
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        this.handle(block);
      }
    }
  }

  handle(block) {
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("data: ")) data += line.slice(6);
    }
    if (!data) return; // keep-alive comment
    const msg = JSON.parse(data);
    this.setServerTime(msg.server_time);
    if (msg.type === "snapshot") {
      this.replace(msg.customers);
      return;
    }
    const c = msg.customer;
    if (c && c.zone === this.zone) {
      this.customers.set(c.visitor_id, c);
      this.onList(this.list(), msg);
    }
  }
}
