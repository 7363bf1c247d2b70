"""The purchase-to-session linking rule, as a table."""

from __future__ import annotations

import pytest

from app.sync.linking import MAX_OPEN_S, PurchaseRef, ScanRef, link_purchase, link_purchases

H = 3600.0
W = 2 * H  # the default window
assert MAX_OPEN_S == 4 * H  # the table below is written for it

# A session that started at t=1000, scanned barcode A at 1100 and ended at 1500.
S1 = ScanRef("s1", "A", 1100.0, 1000.0, 1500.0)


@pytest.mark.parametrize(
    ("purchase_ts", "barcode", "scans", "window", "expected"),
    [
        # while the session is active, after the scan
        (1200.0, "A", [S1], W, "s1"),
        # exactly at the scan
        (1100.0, "A", [S1], W, "s1"),
        # after the end, inside the window
        (1500.0 + W - 1, "A", [S1], W, "s1"),
        # exactly at the end of the window
        (1500.0 + W, "A", [S1], W, "s1"),
        # just outside the window
        (1500.0 + W + 1, "A", [S1], W, None),
        # a shorter configured window
        (1500.0 + 31 * 60, "A", [S1], 30 * 60, None),
        (1500.0 + 29 * 60, "A", [S1], 30 * 60, "s1"),
        # a zero window still links purchases during the session
        (1400.0, "A", [S1], 0.0, "s1"),
        (1501.0, "A", [S1], 0.0, None),
        # bought before the item was shown: not caused by the service
        (1050.0, "A", [S1], W, None),
        # another barcode
        (1200.0, "B", [S1], W, None),
        # no sessions at all
        (1200.0, "A", [], W, None),
        # an open (still active) session links during its first MAX_OPEN_S hours...
        (1000.0 + 3 * H, "A", [ScanRef("open", "A", 1100.0, 1000.0, None)], W, "open"),
        # ...and the window after them, like an ended one
        (1000.0 + 4 * H + W, "A", [ScanRef("open", "A", 1100.0, 1000.0, None)], W, "open"),
        # past that it is an abandoned service (tablet closed mid-service): no more links
        (1000.0 + 4 * H + W + 1, "A", [ScanRef("open", "A", 1100.0, 1000.0, None)], W, None),
        (1000.0 + 10 * H, "A", [ScanRef("open", "A", 1100.0, 1000.0, None)], W, None),
        # two candidates: the most recent scan wins
        (
            3000.0,
            "A",
            [S1, ScanRef("s2", "A", 2500.0, 2400.0, 2600.0)],
            W,
            "s2",
        ),
        # ... whatever the input order
        (
            3000.0,
            "A",
            [ScanRef("s2", "A", 2500.0, 2400.0, 2600.0), S1],
            W,
            "s2",
        ),
        # the most recent scan is after the purchase: the earlier one wins
        (
            2450.0,
            "A",
            [S1, ScanRef("s2", "A", 2500.0, 2400.0, 2600.0)],
            W,
            "s1",
        ),
        # the more recent scan's session ended too long ago: the older, open one wins
        (
            1000.0 + 5 * H,
            "A",
            [
                ScanRef("old-open", "A", 900.0, 800.0, None),
                ScanRef("s2", "A", 1100.0, 1000.0, 1200.0),
            ],
            W,
            "old-open",
        ),
        # the same session scanned the item twice: still that session
        (1300.0, "A", [S1, ScanRef("s1", "A", 1250.0, 1000.0, 1500.0)], W, "s1"),
    ],
)
def test_link_rule(
    purchase_ts: float, barcode: str, scans: list[ScanRef], window: float, expected: str | None
) -> None:
    assert link_purchase(PurchaseRef(1, barcode, purchase_ts), scans, window) == expected


def test_equal_scan_times_break_ties_deterministically() -> None:
    a = ScanRef("a", "X", 100.0, 50.0, 200.0)
    b = ScanRef("b", "X", 100.0, 60.0, 200.0)
    p = PurchaseRef(1, "X", 150.0)
    assert link_purchase(p, [a, b]) == link_purchase(p, [b, a]) == "b"


def test_link_many_purchases_each_by_barcode() -> None:
    scans = [S1, ScanRef("s3", "B", 1200.0, 1150.0, 1300.0)]
    got = link_purchases(
        [
            PurchaseRef("p1", "A", 1400.0),
            PurchaseRef("p2", "B", 1250.0),
            PurchaseRef("p3", "C", 1250.0),
            PurchaseRef("p4", "B", 1100.0),
        ],
        scans,
    )
    assert got == {"p1": "s1", "p2": "s3", "p3": None, "p4": None}
