"""Request and response bodies of the tablet API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

BARCODE_PATTERN = r"^[\x21-\x7E]{1,64}$"  # printable ASCII, no spaces
KEY_PATTERN = r"^[A-Za-z0-9_.:-]{8,80}$"
ID_PATTERN = r"^[A-Za-z0-9-]{8,36}$"
SALE_TS_MIN, SALE_TS_MAX = 946684800.0, 4102444800.0  # 2000-01-01 .. 2100-01-01 (UTC)


def _json_int(v: object) -> object:
    """A JSON integer (3 or 3.0, as JSON Schema has it), never `true` or `"3"`."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ValueError("must be an integer")
    return v


# Request numbers are taken as JSON has them: `"ts": false` or `"ts": "12"` is refused
# (422), never coerced to a number (floats strict, integers through _json_int).
JsonInt = Annotated[int, BeforeValidator(_json_int)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    detail: str = Field(..., description="What went wrong, for a person.")


class PairingPerson(BaseModel):
    id: int
    name: str


class PairingInfo(BaseModel):
    store_name: str
    salespeople: list[PairingPerson]


class PairRequest(Body):
    code: str = Field(..., min_length=4, max_length=16, description="The pairing code.")
    salesperson_id: JsonInt = Field(..., ge=1, le=2**31 - 1)
    pin: str = Field(..., min_length=1, max_length=16)
    label: str = Field("", max_length=120, description="Device name, e.g. 'iPad shoes'.")


class PairResponse(BaseModel):
    token: str = Field(..., description="Send as 'Authorization: Bearer <token>'.")
    device_id: str
    salesperson_id: int
    salesperson_name: str


class Me(BaseModel):
    device_id: str
    salesperson_id: int
    salesperson_name: str
    zones: list[str]
    store_name: str
    server_time: float


class CustomerOut(BaseModel):
    visitor_id: str
    zone: str
    camera: str
    entered_at: float
    last_event: float
    present: bool
    left_at: float | None
    has_crop: bool
    served_by: str


class CustomerList(BaseModel):
    zone: str
    server_time: float
    customers: list[CustomerOut]


class ProductOut(BaseModel):
    barcode: str
    name: str
    category: str
    price: float


class StartSession(Body):
    id: str = Field(..., pattern=ID_PATTERN, description="Client-made UUID (idempotency key).")
    zone: str = Field(..., min_length=1, max_length=80)
    visitor_id: str = Field("", max_length=36)
    ts: float | None = Field(
        None, strict=True, description="When it started on the tablet (epoch s)."
    )


class ScanIn(Body):
    barcode: str = Field(..., pattern=BARCODE_PATTERN)
    idempotency_key: str = Field(..., pattern=KEY_PATTERN)
    ts: float | None = Field(
        None, strict=True, description="When it was scanned on the tablet (epoch s)."
    )


class EndSession(Body):
    ts: float | None = Field(
        None, strict=True, description="When it ended on the tablet (epoch s)."
    )


class ScanOut(BaseModel):
    id: int
    session_id: str
    barcode: str
    ts: float
    duplicate: bool = Field(False, description="This key was already recorded: nothing added.")
    product: ProductOut | None


class SessionOut(BaseModel):
    id: str
    zone: str
    visitor_id: str
    salesperson_id: int
    started_at: float
    ended_at: float | None
    duration_s: float
    items: list[ScanOut]
    total: float = Field(..., description="Sum of the catalogue prices of the items shown.")
    purchases_linked: int


class SessionList(BaseModel):
    sessions: list[SessionOut]


class WebhookLine(Body):
    barcode: str = Field(..., pattern=BARCODE_PATTERN)
    amount: float = Field(..., ge=-1e9, le=1e9, strict=True)
    line: JsonInt | None = Field(None, ge=1, le=100000, description="Line number; default: order.")


class WebhookPurchase(Body):
    transaction_id: str = Field(..., min_length=1, max_length=80)
    ts: float = Field(
        ...,
        ge=SALE_TS_MIN,
        le=SALE_TS_MAX,
        strict=True,
        description="Time of sale, epoch seconds: at most 2 years ago and 1 day ahead.",
    )
    salesperson_code: str = Field("", max_length=40)
    lines: list[WebhookLine] = Field(..., min_length=1, max_length=1000)


class WebhookResult(BaseModel):
    status: str = Field(..., description="'recorded' or 'duplicate'.")
    transaction_id: str
    lines: int
    linked: int
