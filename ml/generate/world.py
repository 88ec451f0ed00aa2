"""Generate a whole world: draw it, then write its raw tables, oracle and world.json."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from ml.generate.config import ERROR_CATEGORIES, SEVERITIES, WorldConfig
from ml.generate.fleet import Fleet, build_fleet
from ml.generate.releases import Releases, simulate_releases
from ml.generate.telemetry import (
    _BACKGROUND_TICKET_SHARE,
    EventChunk,
    Exposure,
    Tickets,
    all_error_codes,
    background_tickets,
    build_exposure,
    concat_tickets,
    expected_errors,
    simulate_events,
    tickets_from_events,
)
from ml.generate.writer import (
    MANIFEST,
    ORACLE_DIR,
    Format,
    RawWriter,
    dictionary_column,
    timestamp_column,
)


@dataclass(frozen=True)
class WorldSummary:
    """Row counts and headline truth of a generated world."""

    rows: dict[str, int]
    regression_base_rate: float

    def as_dict(self) -> dict:
        return asdict(self)


def generate_world(
    cfg: WorldConfig, out_dir: Path, fmt: Format = "csv", progress: bool = False
) -> WorldSummary:
    """Simulate a world and write its raw tables, oracle and world.json into out_dir."""
    cfg.validate()
    rng = np.random.default_rng([cfg.seed, 0])
    fleet = build_fleet(cfg, rng)
    releases = simulate_releases(cfg, fleet, rng)
    exposure = build_exposure(cfg, fleet, releases, rng)
    expected = expected_errors(cfg, releases, exposure)

    out_dir.mkdir(parents=True, exist_ok=True)
    with RawWriter(out_dir, fmt) as writer:
        summary = _write_world(cfg, fleet, releases, exposure, expected, writer, progress)
        writer.commit()
    return summary


def _write_world(
    cfg: WorldConfig,
    fleet: Fleet,
    releases: Releases,
    exposure: Exposure,
    expected: np.ndarray,
    writer: RawWriter,
    progress: bool,
) -> WorldSummary:
    """Simulate the events chunk by chunk and stage every table and world.json."""
    writer.write("device_models", fleet.models)
    writer.write("devices", fleet.devices)
    writer.write("firmware_releases", releases.table)
    writer.write("daily_active_devices", exposure.table(cfg, fleet, releases))
    writer.write(f"{ORACLE_DIR}/release_truth", releases.oracle)

    start = pd.Timestamp(cfg.start_date)
    device_ids = fleet.devices["device_id"].to_numpy()
    release_ids = releases.table["release_id"].to_numpy()
    n_events = 0
    ticket_parts: list[Tickets] = []
    chunks = simulate_events(cfg, exposure, expected)
    n_chunks = -(-cfg.n_days // 28)
    for k, chunk in enumerate(
        tqdm(chunks, total=n_chunks, desc="events", unit="chunk", disable=not progress)
    ):
        writer.append(
            "error_events", _events_table(chunk, n_events, start, device_ids, release_ids)
        )
        n_events += len(chunk.device)
        ticket_parts.append(tickets_from_events(chunk, np.random.default_rng([cfg.seed, 2, k])))
    writer.close("error_events")

    caused = sum(len(t.device) for t in ticket_parts)
    n_background = round(caused * _BACKGROUND_TICKET_SHARE)
    ticket_parts.append(
        background_tickets(cfg, exposure, n_background, np.random.default_rng([cfg.seed, 3]))
    )
    tickets = concat_tickets(ticket_parts, cfg)
    writer.write("support_tickets", _tickets_frame(tickets, start, device_ids))

    summary = WorldSummary(
        rows={
            "device_models": len(fleet.models),
            "devices": len(fleet.devices),
            "firmware_releases": len(releases.table),
            "daily_active_devices": len(exposure.day),
            "error_events": n_events,
            "support_tickets": len(tickets.device),
        },
        regression_base_rate=round(float(releases.oracle["is_true_regression"].mean()), 4),
    )
    manifest = {
        "config": {k: str(v) for k, v in asdict(cfg).items()},
        "format": writer.fmt,
        **summary.as_dict(),
    }
    (writer.staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary


def _events_table(
    chunk: EventChunk,
    first_id: int,
    start: pd.Timestamp,
    device_ids: np.ndarray,
    release_ids: np.ndarray,
) -> pa.Table:
    n = len(chunk.device)
    return pa.table(
        {
            "event_id": pa.array(np.arange(first_id + 1, first_id + n + 1), pa.int64()),
            "device_id": pa.array(device_ids[chunk.device], pa.string()),
            "release_id": pa.array(release_ids[chunk.release], pa.string()),
            "occurred_at": timestamp_column(start, chunk.occurred_at_s),
            "error_code": dictionary_column(chunk.code, all_error_codes()),
            "error_category": dictionary_column(chunk.category, ERROR_CATEGORIES),
            "severity": dictionary_column(chunk.severity, SEVERITIES),
        }
    )


def _tickets_frame(tickets: Tickets, start: pd.Timestamp, device_ids: np.ndarray) -> pd.DataFrame:
    n = len(tickets.device)
    return pa.table(
        {
            "ticket_id": [f"TKT-{i:07d}" for i in range(1, n + 1)],
            "device_id": pa.array(device_ids[tickets.device], pa.string()),
            "opened_at": timestamp_column(start, tickets.opened_at_s),
            "symptom": pa.array(tickets.symptom, pa.string()),
            "resolution": pa.array(tickets.resolution, pa.string()),
            "resolved_at": timestamp_column(start, tickets.resolved_at_s),
        }
    ).to_pandas()
