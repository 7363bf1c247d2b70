"""The settings tree: one place for every default, loaded from TOML (or JSON).

Every field is described and range-checked; unknown fields are refused, so a typo in a
config file is reported instead of silently ignored. `load_config` turns any problem
into a `ConfigError` whose message names the file, the field and what is wrong.
"""

from __future__ import annotations

import ipaddress
import json
import tomllib
import uuid
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.config.alerts import AlertRule as AlertRule
from app.config.alerts import AlertsConfig
from app.config.base import Strict as Strict
from app.config.base import simple_polygon
from app.config.filters import IgnoreMask as IgnoreMask
from app.config.filters import StationaryConfig as StationaryConfig
from app.config.kpis import KpiSettings
from app.polygons import Point

NETWORK_SCHEMES = ("rtsp", "rtsps", "http", "https")


class StoreIdentity(Strict):
    id: str = Field(
        default_factory=lambda: str(uuid.uuid4()), description="Stable id of this store."
    )
    name: str = Field("My store", min_length=1, max_length=120, description="Store name.")
    timezone: str = Field("UTC", description="IANA time zone used for daily reports.")
    privacy_mode: Literal["anonymous", "staff_exclusion", "repeat_visitors"] = Field(
        "anonymous",
        description="anonymous (default) detects no face and keeps no biometrics; "
        "staff_exclusion (opt-in) recognises consented staff only, to leave them out of the "
        "counts; repeat_visitors (opt-in, needs the store's notice confirmed) also keeps "
        "visitor face templates (encrypted, faces.visitor_days at most) to tell new from "
        "returning visitors.",
    )

    @field_validator("privacy_mode", mode="before")
    @classmethod
    def _old_recognition(cls, v: Any) -> Any:
        # "recognition" (before staff exclusion and repeat visitors were told apart) is
        # the narrower of the two: staff only
        return "staff_exclusion" if v == "recognition" else v


class CameraConfig(Strict):
    name: str = Field(..., min_length=1, max_length=80, description="Unique camera name.")
    type: Literal["file", "rtsp", "usb", "fake"] = Field(
        "file", description="Source kind: video file, RTSP/HTTP IP camera, USB index, fake."
    )
    url: str = Field("", description="File path, or rtsp:// / http:// URL of an IP camera.")
    usb_index: int = Field(0, ge=0, le=63, description="USB camera index.")
    username: str = Field("", description="IP camera user name.")
    password: SecretStr = Field(SecretStr(""), description="IP camera password (never logged).")
    loop: bool = Field(False, description="Loop a video file (demo camera).")
    realtime: bool = Field(
        False,
        description=(
            "Pace a video file at its own frame rate, like a live camera (without it a live "
            "engine reads the file as fast as it decodes and analyses few of its frames)."
        ),
    )
    analysis_fps: float | None = Field(
        None, gt=0, le=30, description="Analysis rate for this camera; default: analysis.fps."
    )
    enabled: bool = Field(True, description="Whether the camera runs.")
    ignore_masks: list[IgnoreMask] = Field(
        default_factory=list, max_length=32, description="Areas where nobody is counted."
    )
    min_person_height: float = Field(
        0.02,
        ge=0,
        lt=1,
        description="Smallest person box counted, as a fraction of the frame height "
        "(0.02: 7 px of a 360 px frame, 22 px of 1080); smaller detections are dropped.",
    )
    max_person_height: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Largest person box counted, as a fraction of the frame height "
        "(1: no limit); taller detections are dropped.",
    )

    @model_validator(mode="after")
    def _person_sizes_ordered(self) -> CameraConfig:
        if self.min_person_height >= self.max_person_height:
            raise ValueError(
                f"the smallest person size ({self.min_person_height:.0%} of the picture's "
                f"height) must be below the largest ({self.max_person_height:.0%})"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _credentials_out_of_url(cls, data: Any) -> Any:
        """A user name and password typed inside the URL (`rtsp://admin:pw@host/...`) move
        to the `username` / `password` fields: the URL is saved in clear, they are not."""
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        url, user, password = split_url_credentials(data["url"])
        if url == data["url"]:
            return data
        data = {**data, "url": url}
        if user and not data.get("username"):
            data["username"] = user
        if password:  # the one just typed in the URL wins over an older one
            data["password"] = password
        return data

    @model_validator(mode="after")
    def _needs_url(self) -> CameraConfig:
        if self.type == "file" and not self.url:
            raise ValueError("a video file camera needs a file: choose the video to play")
        if self.type == "rtsp" and not self.url:
            raise ValueError("an IP camera needs its address (rtsp://… or http://…)")
        if self.type == "rtsp":
            problem = camera_url_problem(self.url)
            if problem:
                raise ValueError(f"the camera's address {problem}")
        return self


class ZoneConfig(Strict):
    name: str = Field(..., min_length=1, max_length=80, description="Unique zone name.")
    camera: str = Field(
        "", description="Camera name; empty means the first camera (filled in on validation)."
    )
    polygon: list[Point] = Field(
        ..., min_length=3, max_length=64, description="Vertices in image pixels."
    )
    kind: Literal["zone", "queue"] = Field("zone", description="A plain zone or a queue area.")
    capacity: int | None = Field(
        None, ge=1, le=10000, description="Occupancy above which an alert is raised."
    )
    in_store: bool = Field(
        True,
        description='Counts towards the store\'s head count ("in the store now"). False '
        "for an area outside the store (a car park, the pavement) or inside another zone, "
        "so that nobody is counted twice.",
    )

    @field_validator("polygon")
    @classmethod
    def _simple_polygon(cls, polygon: list[Point], info: ValidationInfo) -> list[Point]:
        return simple_polygon(polygon, info, "zone")


class LineConfig(Strict):
    name: str = Field(..., min_length=1, max_length=80, description="Unique line name.")
    camera: str = Field(
        "", description="Camera name; empty means the first camera (filled in on validation)."
    )
    start: Point = Field(..., description="Start of the segment in image pixels.")
    end: Point = Field(..., description="End of the segment in image pixels.")
    hysteresis_px: float = Field(
        6.0, ge=0, le=200, description="Distance a point must move past the line to count."
    )
    door: bool = Field(
        True,
        description="A door of the store: its crossings are the store's entries and exits "
        "(footfall). False for a line inside the store (an aisle, a department), counted "
        "on its own only.",
    )

    @model_validator(mode="after")
    def _not_degenerate(self) -> LineConfig:
        if self.start == self.end:
            raise ValueError("start and end are the same point")
        return self


class EntranceConfig(Strict):
    name: str = Field(..., min_length=1, description="Entrance name.")
    line: str = Field(..., description="The outer counting line (pavement side).")
    zone: str = Field(..., description="The zone just inside the door.")
    window_s: float = Field(
        10.0, gt=0, le=600, description="Seconds after crossing to reach the zone."
    )


class DetectorConfig(Strict):
    type: Literal["yolox", "ultralytics", "fake"] = Field("yolox", description="Detector kind.")
    model: str = Field("yolox_nano", description="Catalog name or path of the ONNX model.")
    confidence: float = Field(0.3, gt=0, lt=1, description="Minimum person score.")
    nms_iou: float = Field(0.45, gt=0, lt=1, description="IoU threshold of NMS.")
    provider: Literal["auto", "cpu", "cuda", "coreml"] = Field(
        "auto", description="ONNX Runtime execution provider."
    )
    threads: int = Field(0, ge=0, le=64, description="Intra-op threads; 0 lets ORT decide.")
    batch: bool = Field(False, description="Batch frames of several cameras into one inference.")
    trim_input: bool = Field(
        True,
        description="Infer on the letterboxed picture only, its padding cut to a multiple of "
        "32 (YOLOX: 416x320 for a 4:3 camera instead of 416x416, ~25 % less CPU); off: the "
        "model's full input, which keeps slightly more low-score people cut by the bottom edge.",
    )
    denoise: Literal["auto", "on", "off"] = Field(
        "auto",
        description="Smooth grainy pictures before detection (auto: when the grain is at "
        "least noise_sigma grey levels).",
    )
    noise_sigma: float = Field(
        4.0, gt=0, le=100, description="Grain (grey levels) from which auto smooths a picture."
    )


class TrackerConfig(Strict):
    high_thresh: float = Field(0.5, gt=0, lt=1, description="ByteTrack first-stage score.")
    low_thresh: float = Field(0.1, gt=0, lt=1, description="ByteTrack second-stage score.")
    new_track_thresh: float = Field(0.5, gt=0, lt=1, description="Score to start a track.")
    match_iou: float = Field(
        0.3, gt=0, lt=1, description="Minimum IoU x score to match a track (1 - cost)."
    )
    max_lost_s: float = Field(3.0, gt=0, le=60, description="Seconds a lost track is kept.")
    min_hits: int = Field(2, ge=1, le=30, description="Hits before a track is reported.")

    @model_validator(mode="after")
    def _ordered_thresholds(self) -> TrackerConfig:
        if self.low_thresh >= self.high_thresh:
            raise ValueError(
                f"low_thresh ({self.low_thresh:g}) must be below high_thresh "
                f"({self.high_thresh:g}): the second stage takes the scores between them"
            )
        return self


class MotionConfig(Strict):
    enabled: bool = Field(True, description="Skip detection on still frames.")
    width: int = Field(96, ge=16, le=640, description="Width of the downscaled frame.")
    pixel_delta: int = Field(18, ge=1, le=255, description="Grey-level change that counts.")
    min_changed: float = Field(
        0.002, ge=0, le=1, description="Fraction of changed pixels that is motion."
    )
    max_skip_s: float = Field(
        2.0, ge=0, le=60, description="Run detection at least this often anyway."
    )


class AdaptiveRateConfig(Strict):
    """The adaptive analysis rate: a camera is analysed at its source rate (up to
    `max_fps`) while a tracked person is near one of its counting lines or heading for
    one, at its analysis rate otherwise."""

    enabled: bool = Field(
        True, description="Analyse at the source rate while someone is near a counting line."
    )
    max_fps: float = Field(
        0.0, ge=0, le=60, description="Highest adaptive rate (0: the source's own rate)."
    )
    near_heights: float = Field(
        1.0, gt=0, le=10, description="Near a line: within this many box heights of it."
    )
    horizon_s: float = Field(
        1.0, ge=0, le=10, description="Heading for a line: near it within this many seconds."
    )


class ZoomConfig(Strict):
    """A second detector pass on the region around a camera's counting lines, enlarged
    to the detector's input, for people too small at the full frame's scale
    (app/vision/zoom_pass.py). Each tile costs one more inference."""

    enabled: bool = Field(
        False, description="Detect again, zoomed, around the counting lines when people are small."
    )
    max_person_px: float = Field(
        64.0,
        gt=0,
        le=1000,
        description="Zoom when people measure less than this at the detector's input (pixels).",
    )
    min_gain: float = Field(
        1.25, ge=1, le=10, description="Zoom only when it enlarges people this much more."
    )
    max_tiles: int = Field(2, ge=1, le=8, description="At most this many zoomed tiles a frame.")
    only_fast: bool = Field(
        True, description="Zoom only while the adaptive rate analyses the camera fast."
    )


class AnalysisConfig(Strict):
    fps: float = Field(5.0, gt=0, le=30, description="Default analysis rate per camera.")
    adaptive: AdaptiveRateConfig = Field(default_factory=AdaptiveRateConfig)
    zoom: ZoomConfig = Field(default_factory=ZoomConfig)
    revisit_s: float = Field(
        30.0, ge=0, le=3600, description="A return within this many seconds is the same visit."
    )
    detector: DetectorConfig = Field(default_factory=DetectorConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    heatmap_cell_px: int = Field(8, ge=2, le=64, description="Heatmap cell size in pixels.")
    zone_hysteresis_px: float = Field(
        4.0, ge=0, le=200, description="Distance past a zone edge that flips inside/outside."
    )
    stitch_s: float = Field(
        1.5,
        ge=0,
        le=10,
        description="A new track taking over a person lost this many seconds ago (0: off).",
    )
    stitch_radius: float = Field(
        0.8, gt=0, le=5, description="How near (in box heights) a new track must appear."
    )
    zone_min_frames: int = Field(
        2,
        ge=1,
        le=100,
        description="Analysed frames on the other side of a zone edge that also flip it.",
    )
    stationary: StationaryConfig = Field(default_factory=StationaryConfig)


class ModelsConfig(Strict):
    dir: str = Field("", description="Models directory; VITRINE_MODELS_DIR overrides it.")
    allow_download: bool = Field(True, description="Download missing models when online.")


class RetentionConfig(Strict):
    person_crops_days: float = Field(7, gt=0, le=3650, description="Days person crops are kept.")
    face_images_days: float = Field(30, gt=0, le=3650, description="Days face images are kept.")
    raw_events_days: float = Field(400, gt=0, le=3650, description="Days raw events are kept.")


class FacesConfig(Strict):
    """Opt-in recognition settings (used only when store.privacy_mode is not anonymous)."""

    threshold: float = Field(
        0.45, ge=0.1, le=0.95, description="Cosine similarity at or above which two faces match."
    )
    visitor_days: float = Field(
        30, gt=0, le=30, description="Days a visitor's face template is kept (30 at most)."
    )
    notice_confirmed_at: float | None = Field(
        None,
        description="When the manager confirmed that the store displays the recognition "
        "notice (epoch seconds); repeat_visitors needs it.",
    )
    min_face_px: float = Field(32, ge=12, le=400, description="Smaller faces are skipped.")
    min_sharpness: float = Field(
        25, ge=0, le=10000, description="Blurrier faces (variance of the Laplacian) are skipped."
    )
    attempts_known: int = Field(3, ge=1, le=50, description="Face attempts per recognised track.")
    attempts_unknown: int = Field(
        10, ge=1, le=200, description="Face attempts per track while it is unrecognised."
    )
    staff_zones: list[str] = Field(
        default_factory=list,
        description="Staff-only zones (non-biometric staff rule, works in every mode).",
    )
    staff_zone_minutes: float = Field(
        0,
        ge=0,
        le=24 * 60,
        description="A person who spends more than this many minutes in staff-only zones "
        "is treated as staff (0: off).",
    )
    pack_dir: str = Field(
        "",
        description="A licensed InsightFace model pack folder to use instead of the shipped "
        "models (empty: YuNet + MobileFaceNet).",
    )


class LanConfig(Strict):
    enabled: bool = Field(True, description="Serve the tablet app on the store LAN.")
    host: str = Field("0.0.0.0", description="Address to listen on.")
    port: int = Field(8443, ge=1, le=65535, description="TCP port.")
    allow_http: bool = Field(False, description="Serve plain HTTP instead of HTTPS.")
    link_window_min: float = Field(
        120, ge=0, le=24 * 60, description="Minutes after a service a purchase still links."
    )


class SyncConfig(Strict):
    enabled: bool = Field(False, description="Send aggregates to HQ.")
    hq_url: str = Field("", description="Base URL of the HQ receiver.")
    store_key: SecretStr = Field(SecretStr(""), description="Per-store key issued by HQ.")
    interval_s: float = Field(60, ge=5, le=86400, description="Seconds between sync runs.")
    allow_insecure_http: bool = Field(
        False,
        description="Allow a plain http:// hq_url to another machine (the store key then "
        "crosses the network in clear); without it only https:// or loopback is accepted.",
    )

    @model_validator(mode="after")
    def _no_clear_key_on_the_network(self) -> SyncConfig:
        if self.allow_insecure_http or not self.hq_url.strip().lower().startswith("http://"):
            return self
        if not is_loopback_url(self.hq_url):
            raise ValueError(
                f"hq_url {self.hq_url.strip()!r} is plain http:// to another machine, which "
                "would send the store key in clear: use https://, or set "
                "sync.allow_insecure_http = true"
            )
        return self


class AppConfig(Strict):
    store: StoreIdentity = Field(default_factory=StoreIdentity)
    cameras: list[CameraConfig] = Field(default_factory=list, max_length=64)
    zones: list[ZoneConfig] = Field(default_factory=list)
    lines: list[LineConfig] = Field(default_factory=list)
    entrances: list[EntranceConfig] = Field(default_factory=list)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    faces: FacesConfig = Field(default_factory=FacesConfig)
    lan: LanConfig = Field(default_factory=LanConfig)
    sync: SyncConfig = Field(default_factory=SyncConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    kpis: KpiSettings = Field(default_factory=KpiSettings)

    @model_validator(mode="after")
    def _names_resolve(self) -> AppConfig:
        for kind, items in (("camera", self.cameras), ("zone", self.zones), ("line", self.lines)):
            names = [i.name for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                called = ", ".join(f"“{n}”" for n in dupes)
                raise ValueError(
                    f"{kind.capitalize()} names must be unique: more than one is called {called}"
                )
        cams = {c.name for c in self.cameras}
        shapes: list[ZoneConfig | LineConfig] = [*self.zones, *self.lines]
        for shape in shapes:
            if shape.camera and cams and shape.camera not in cams:
                raise ValueError(f"{shape.name!r} refers to unknown camera {shape.camera!r}")
        zones = {z.name for z in self.zones}
        lines = {ln.name for ln in self.lines}
        for e in self.entrances:
            if e.line not in lines:
                raise ValueError(f"entrance {e.name!r} refers to unknown line {e.line!r}")
            if e.zone not in zones:
                raise ValueError(f"entrance {e.name!r} refers to unknown zone {e.zone!r}")
        for z in self.faces.staff_zones:
            if z not in zones:
                raise ValueError(f"Staff-only zones: there is no zone called “{z}”")
        return self._resolve_cameras()

    @model_validator(mode="after")
    def _notice_before_repeat_visitors(self) -> AppConfig:
        if self.store.privacy_mode == "repeat_visitors" and self.faces.notice_confirmed_at is None:
            raise ValueError(
                "repeat visitors mode needs the manager to confirm that the store displays "
                "the recognition notice (faces.notice_confirmed_at)"
            )
        return self

    def _resolve_cameras(self) -> AppConfig:
        """Give every zone and line without a camera the first camera's name, once, so that
        nothing downstream has to know that "" means the first camera. (Assigning a field
        validates again; the second pass finds nothing left to fill in.)"""
        if not self.cameras:
            return self
        first = self.cameras[0].name
        if any(not z.camera for z in self.zones):
            self.zones = [
                z if z.camera else z.model_copy(update={"camera": first}) for z in self.zones
            ]
        if any(not ln.camera for ln in self.lines):
            self.lines = [
                ln if ln.camera else ln.model_copy(update={"camera": first}) for ln in self.lines
            ]
        return self

    def zones_of(self, camera: str) -> list[ZoneConfig]:
        """The zones drawn on `camera`."""
        return [z for z in self.zones if z.camera == camera]

    def lines_of(self, camera: str) -> list[LineConfig]:
        """The counting lines drawn on `camera`."""
        return [ln for ln in self.lines if ln.camera == camera]

    def with_camera(self, cam: CameraConfig, replacing: str | None = None) -> AppConfig:
        """A new config with `cam` added, or put in place of camera `replacing` (its
        zones and lines follow a rename); validated."""
        cams = [cam if c.name == replacing else c for c in self.cameras]
        data = self.model_dump()
        data["cameras"] = [c.model_dump() for c in (cams if replacing else [*cams, cam])]
        if replacing and replacing != cam.name:
            for shape in (*data["zones"], *data["lines"]):
                if shape["camera"] == replacing:
                    shape["camera"] = cam.name
        return AppConfig.model_validate(data)

    def without_camera(self, name: str) -> AppConfig:
        """A new config without camera `name`, its zones, lines and their entrances."""
        zones = {z.name for z in self.zones_of(name)}
        lines = {ln.name for ln in self.lines_of(name)}
        data = self.model_dump()
        data["cameras"] = [c.model_dump() for c in self.cameras if c.name != name]
        data["zones"] = [z.model_dump() for z in self.zones if z.name not in zones]
        data["lines"] = [ln.model_dump() for ln in self.lines if ln.name not in lines]
        data["entrances"] = [
            e.model_dump() for e in self.entrances if e.zone not in zones and e.line not in lines
        ]
        return AppConfig.model_validate(data)


def split_url_credentials(url: str) -> tuple[str, str, str]:
    """(URL without user info, user name, password), both percent-decoded; the URL is
    returned as given when it has no user info (or is not a network URL)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        # not a URL anyone can open (say "rtsp://u:pw@[::1/x"): still, what looks like a
        # password never stays in it (the address is refused by the camera's check)
        scheme, sep, rest = url.partition("://")
        if sep and "@" in rest.split("/", 1)[0] and scheme.lower() in NETWORK_SCHEMES:
            userinfo, host = rest.split("/", 1)[0].rsplit("@", 1)
            user, _, password = userinfo.partition(":")
            tail = rest[len(userinfo) + 1 :]
            return f"{scheme}{sep}{tail}", unquote(user), unquote(password)
        return url, "", ""
    if "@" not in parts.netloc or parts.scheme.lower() not in NETWORK_SCHEMES:
        return url, "", ""
    userinfo, host = parts.netloc.rsplit("@", 1)
    user, _, password = userinfo.partition(":")
    return urlunsplit(parts._replace(netloc=host)), unquote(user), unquote(password)


def camera_url_problem(url: str) -> str:
    """What is wrong with an IP camera's address ("" when nothing): a network scheme, a
    host and a valid port are needed. The message never repeats the address."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        return f"cannot be read ({exc}): check the brackets, the host and the port"
    if parts.scheme.lower() not in NETWORK_SCHEMES:
        return "must start with rtsp://, rtsps://, http:// or https://"
    if not parts.hostname:
        return "has no host: give the camera's IP address or name after ://"
    if port == 0:
        return "has port 0: leave the port out or give the camera's port (1-65535)"
    return ""


def is_loopback_url(url: str) -> bool:
    """Whether the URL's host is this machine (localhost, 127.0.0.0/8, ::1)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConfigError(ValueError):
    """A config file that cannot be used; the message is meant for a person."""


def _format_validation(source: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors()[:5]:
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "finite_number":
            msg = f"must be a finite number, not {e['input']!r}"
        parts.append(f"{loc}: {msg}")
    more = f" (and {err.error_count() - 5} more)" if err.error_count() > 5 else ""
    return f"{source}: " + "; ".join(parts) + more


def parse_config(data: dict[str, Any], source: str = "config") -> AppConfig:
    try:
        return AppConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_validation(source, err)) from None


def load_config(path: str | Path) -> AppConfig:
    """Load a TOML or JSON config file; raises ConfigError with a one-line reason."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")  # a BOM (Windows Notepad) is fine
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read it ({exc})") from None
    try:
        if p.suffix.lower() == ".json" or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if p.suffix.lower() == ".json" else "TOML"
        raise ConfigError(f"{p}: not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a table of settings")
    return parse_config(data, str(p))


def dump_config(cfg: AppConfig, reveal_secrets: bool = True) -> dict[str, Any]:
    """A plain dict of the config (secrets revealed for saving, masked for display)."""
    data = cfg.model_dump(mode="json")
    if reveal_secrets:
        for i, cam in enumerate(cfg.cameras):
            data["cameras"][i]["password"] = cam.password.get_secret_value()
        data["sync"]["store_key"] = cfg.sync.store_key.get_secret_value()
    return data
