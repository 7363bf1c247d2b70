"""The event bus: typed filtering, isolation of failing subscribers, thread safety."""

from __future__ import annotations

import threading

from app.events import CameraStatus, EventBus, LineCross


def _cross(i: int) -> LineCross:
    return LineCross(camera="c", ts=0.0, frame=i, t=0.0, line="door", direction="in", track_id=i)


def test_type_filter_and_unsubscribe() -> None:
    bus = EventBus()
    crosses: list[object] = []
    everything: list[object] = []
    unsub = bus.subscribe(crosses.append, LineCross)
    bus.subscribe(everything.append)
    bus.publish(_cross(1))
    bus.publish(CameraStatus(camera="c", status="live"))
    assert [type(e) for e in crosses] == [LineCross]
    assert len(everything) == 2
    unsub()
    bus.publish(_cross(2))
    assert len(crosses) == 1
    assert len(everything) == 3


def test_failing_subscriber_does_not_stop_others() -> None:
    bus = EventBus()
    got: list[object] = []

    def boom(_: object) -> None:
        raise RuntimeError("broken")

    bus.subscribe(boom)
    bus.subscribe(got.append)
    bus.publish(_cross(1))
    assert len(got) == 1


def test_concurrent_publishers_deliver_everything() -> None:
    bus = EventBus()
    got: list[int] = []
    lock = threading.Lock()

    def handler(e: LineCross) -> None:
        with lock:
            got.append(e.frame)

    bus.subscribe(handler, LineCross)
    threads = [
        threading.Thread(target=lambda k=k: [bus.publish(_cross(k * 1000 + i)) for i in range(500)])
        for k in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(k * 1000 + i for k in range(4) for i in range(500))
