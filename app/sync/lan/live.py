"""Who is in each zone right now, pushed to the tablets as it changes.

`LiveHub` subscribes to the engine's bus (NewVisitor, ZoneEnter, ZoneExit). Its handler
runs on the publisher's thread and only updates a small in-memory table and hands a
message to each interested stream's asyncio queue with `call_soon_threadsafe`, so a
tablet hears of a new customer within milliseconds of the event being published. Crops
(JPEG bytes) are kept in memory for the most recent customers; people who left stay
listed (greyed) for `keep_left_s` so a salesperson can still start their service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.events import EventBus, NewVisitor, StaffRetracted, ZoneEnter, ZoneExit

log = logging.getLogger(__name__)

STALE_S = 12 * 3600.0  # forget a customer with no event for this long


@dataclass
class Customer:
    visitor_id: str
    zone: str
    camera: str
    entered_at: float
    last_event: float
    present: bool = True
    left_at: float | None = None
    has_crop: bool = False
    served_by: str = ""

    def to_json(self) -> dict[str, Any]:
        # every attribute is a field and immutable: a flat copy is `asdict` at 1/50 the
        # cost (the customer list is the tablets' most frequent request)
        return dict(vars(self))

    def copy(self) -> Customer:
        return Customer(**vars(self))


@dataclass
class _Stream:
    zone: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any] | None]


class LiveHub:
    def __init__(
        self,
        keep_left_s: float = 120.0,  # as long as the tablet shows "Just left" (live.js)
        max_crops: int = 2000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keep_left_s = keep_left_s
        self.max_crops = max_crops
        self._clock = clock
        self._lock = threading.Lock()
        self._customers: dict[tuple[str, str], Customer] = {}
        self._crops: OrderedDict[str, bytes] = OrderedDict()
        self._streams: list[_Stream] = []
        self._unsubscribe: Callable[[], None] | None = None

    # --- bus side (publisher's thread) -----------------------------------------------

    def attach(self, bus: EventBus) -> None:
        self.detach()
        self._unsubscribe = bus.subscribe(
            self.handle, NewVisitor, ZoneEnter, ZoneExit, StaffRetracted
        )

    def detach(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    def handle(self, event: object) -> None:
        if isinstance(event, NewVisitor):
            self._arrive(event.zone, event.visitor_id, event.camera, event.ts, event.crop_jpeg)
        elif isinstance(event, ZoneEnter):
            self._arrive(event.zone, event.visitor_id, event.camera, event.ts, b"")
        elif isinstance(event, ZoneExit):
            self._leave(event.zone, event.visitor_id, event.ts)
        elif isinstance(event, StaffRetracted):
            self._drop(event.visitor_id, event.ts)

    def _drop(self, visitor_id: str, ts: float) -> None:
        """Someone recognised as staff after they were listed: off every zone's list,
        picture forgotten. The tablets get a "leave" that ends when it began, which
        their list (live.js) never shows."""
        with self._lock:
            self._crops.pop(visitor_id, None)
            gone = [(z, c) for (z, v), c in self._customers.items() if v == visitor_id]
            msgs = []
            for zone, c in gone:
                del self._customers[(zone, visitor_id)]
                c.present, c.left_at, c.last_event, c.has_crop = False, c.entered_at, ts, False
                msgs.append((zone, {"type": "leave", "customer": c.to_json(), "event_ts": ts}))
        for zone, msg in msgs:
            self._fan_out(zone, msg)

    def _arrive(self, zone: str, visitor_id: str, camera: str, ts: float, crop: bytes) -> None:
        if not visitor_id:
            return
        with self._lock:
            if crop:
                self._crops[visitor_id] = crop
                self._crops.move_to_end(visitor_id)
                while len(self._crops) > self.max_crops:
                    self._crops.popitem(last=False)
            c = self._customers.get((zone, visitor_id))
            if c is None:
                c = Customer(visitor_id, zone, camera, ts, ts)
                self._customers[(zone, visitor_id)] = c
                kind = "arrive"
            else:
                kind = "update"
                c.present, c.left_at, c.last_event = True, None, ts
            c.has_crop = visitor_id in self._crops
            msg = {"type": kind, "customer": c.to_json(), "event_ts": ts}
        self._fan_out(zone, msg)

    def _leave(self, zone: str, visitor_id: str, ts: float) -> None:
        with self._lock:
            c = self._customers.get((zone, visitor_id))
            if c is None:
                return
            c.present, c.left_at, c.last_event = False, ts, ts
            msg = {"type": "leave", "customer": c.to_json(), "event_ts": ts}
        self._fan_out(zone, msg)

    def seed(self, present: list[tuple[str, str, str, float, bytes | None]]) -> int:
        """Customers still inside when the server (re)starts: (zone, visitor, camera,
        entered_at, crop). Known customers are left as they are."""
        n = 0
        with self._lock:
            for zone, vid, camera, entered, crop in present:
                if (zone, vid) in self._customers or not vid:
                    continue
                if crop and vid not in self._crops:
                    self._crops[vid] = crop
                c = Customer(vid, zone, camera, entered, entered, has_crop=vid in self._crops)
                self._customers[(zone, vid)] = c
                n += 1
        return n

    def set_served_by(self, zone: str, visitor_id: str, name: str) -> None:
        """Mark a customer as being served (name) or free again (empty name)."""
        with self._lock:
            c = self._customers.get((zone, visitor_id))
            if c is None:
                return
            c.served_by = name
            msg = {"type": "update", "customer": c.to_json(), "event_ts": self._clock()}
        self._fan_out(zone, msg)

    def _fan_out(self, zone: str, msg: dict[str, Any]) -> None:
        msg["sent_at"] = self._clock()
        with self._lock:
            streams = [s for s in self._streams if s.zone == zone]
        for s in streams:
            try:
                s.loop.call_soon_threadsafe(s.queue.put_nowait, msg)
            except RuntimeError:  # that stream's loop is closed
                self._remove(s)

    # --- reader side -----------------------------------------------------------------

    def customers(self, zone: str) -> list[Customer]:
        """Customers in a zone (and those who left in the last `keep_left_s`), newest
        arrival first."""
        now = self._clock()
        with self._lock:
            self._purge(now)
            found = [c for (z, _), c in self._customers.items() if z == zone]
            out = [c.copy() for c in found]
        out.sort(key=lambda c: (c.present, c.entered_at), reverse=True)
        return out

    def customer(self, zone: str, visitor_id: str) -> Customer | None:
        with self._lock:
            c = self._customers.get((zone, visitor_id))
            return c.copy() if c else None

    def crop(self, visitor_id: str) -> bytes | None:
        with self._lock:
            return self._crops.get(visitor_id)

    def zones_of(self, visitor_id: str) -> set[str]:
        with self._lock:
            return {z for (z, v) in self._customers if v == visitor_id}

    def _purge(self, now: float) -> None:
        gone = [
            k
            for k, c in self._customers.items()
            if (c.left_at is not None and now - c.left_at > self.keep_left_s)
            or now - c.last_event > STALE_S
        ]
        for k in gone:
            del self._customers[k]

    # --- streams ---------------------------------------------------------------------

    def open_stream(self, zone: str) -> _Stream:
        """A queue of messages for `zone`, fed from any thread (call on the loop)."""
        s = _Stream(zone, asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._streams.append(s)
        return s

    def close_stream(self, stream: _Stream) -> None:
        self._remove(stream)

    def _remove(self, stream: _Stream) -> None:
        with self._lock:
            if stream in self._streams:
                self._streams.remove(stream)

    def stream_count(self) -> int:
        with self._lock:
            return len(self._streams)

    def close_all(self) -> None:
        """End every open stream (server shutdown)."""
        with self._lock:
            streams, self._streams = self._streams, []
        for s in streams:
            with contextlib.suppress(RuntimeError):
                s.loop.call_soon_threadsafe(s.queue.put_nowait, None)
