"""Rollout exposure, device error events and support tickets, vectorised and chunked.

Within each cohort (device model x region) devices are ordered by a random rollout rank;
a staged rollout reaches the lowest ranks first, so on any day the devices running a
release form one contiguous rank range. Exposure rows are those ranges; error events are
Poisson counts per (range, day, category), each assigned to a device in the range with
probability proportional to its fragility.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.generate.config import (
    CATEGORY_SHARE,
    ERROR_CATEGORIES,
    ERROR_CODES,
    REGION_ROLLOUT_DELAY_DAYS,
    REGIONS,
    ROLLOUT_CURVE,
    SEVERITIES,
    SEVERITY_PROBS,
    WorldConfig,
)
from ml.generate.fleet import Fleet
from ml.generate.releases import Releases

CHUNK_DAYS = 28
SECONDS_PER_DAY = 86_400
_AGING_PER_YEAR = 0.15  # the whole fleet gets slightly more error prone as it ages
# P(ticket | severity) for an error event, and P(RMA | ticket) per error category.
_TICKET_PROB = np.array([0.0, 0.002, 0.02, 0.06])
_RMA_PROB = np.array([0.25, 0.05, 0.04, 0.03, 0.45, 0.35])
_SYMPTOMS = ("reboots", "no_video", "no_network", "freezes", "dead_device", "freezes")
_BACKGROUND_TICKET_SHARE = 0.1


@dataclass(frozen=True)
class Exposure:
    """One row per (day, release, cohort): the rank range of devices running it."""

    day: np.ndarray  # days since world start
    release: np.ndarray  # row of the releases table
    model: np.ndarray  # row of the models table
    region: np.ndarray  # index into REGIONS
    lo: np.ndarray  # first position in Fleet order (see device_order)
    hi: np.ndarray  # one past the last position
    device_order: np.ndarray  # device row at each position (cohorts contiguous, by rank)
    cumulative_weight: np.ndarray  # prefix sums of fragility over positions (len n + 1)

    def table(self, cfg: WorldConfig, fleet: Fleet, releases: Releases) -> pd.DataFrame:
        """The raw daily_active_devices table."""
        return pd.DataFrame(
            {
                "activity_date": pd.to_datetime(cfg.start_date) + pd.to_timedelta(self.day, "D"),
                "release_id": releases.table["release_id"].to_numpy()[self.release],
                "device_model_id": fleet.models["device_model_id"].to_numpy()[self.model],
                "region": np.array(REGIONS)[self.region],
                "active_devices": self.hi - self.lo,
            }
        ).assign(activity_date=lambda d: d["activity_date"].dt.date)


def rollout_share(days_since_start: np.ndarray) -> np.ndarray:
    """Share of a cohort that has received a release, by days since its rollout there began."""
    curve = np.asarray(ROLLOUT_CURVE)
    clipped = np.clip(days_since_start, 0, len(curve) - 1)
    return np.where(days_since_start < 0, 0.0, curve[clipped])


def build_exposure(
    cfg: WorldConfig, fleet: Fleet, releases: Releases, rng: np.random.Generator
) -> Exposure:
    """Simulate every cohort's staged rollouts and return the exposure ranges."""
    cohort = fleet.device_model_index * len(REGIONS) + fleet.device_region_index
    rank = rng.uniform(size=len(cohort))
    device_order = np.lexsort((rank, cohort))
    cumulative_weight = np.concatenate([[0.0], np.cumsum(fleet.device_weight[device_order])])
    cohort_sizes = np.bincount(cohort, minlength=len(fleet.models) * len(REGIONS))
    cohort_offset = np.concatenate([[0], np.cumsum(cohort_sizes)])

    rel = releases.table
    rel_day = (
        pd.to_datetime(rel["release_date"]) - pd.Timestamp(cfg.start_date)
    ).dt.days.to_numpy()
    day = np.arange(cfg.n_days)
    parts: list[tuple[np.ndarray, ...]] = []
    for platform, start in fleet.platform_start.items():
        rel_idx = np.flatnonzero(rel["platform_id"].to_numpy() == platform)  # date order
        first_day = (start - cfg.start_date).days
        for region, delay in enumerate(REGION_ROLLOUT_DELAY_DAYS):
            since = day[:, None] - rel_day[rel_idx][None, :] - delay
            share = rollout_share(since)
            share[:, 0] = day >= first_day  # the baseline firmware is on every device at launch
            for model in np.flatnonzero(fleet.models["platform_id"].to_numpy() == platform):
                c = model * len(REGIONS) + region
                n = cohort_sizes[c]
                reached = np.rint(share * n).astype(np.int64)  # devices on this release or newer
                newer = np.concatenate([reached[:, 1:], np.zeros((len(day), 1), np.int64)], axis=1)
                d, r = np.nonzero(reached > newer)
                parts.append(
                    (
                        d,
                        rel_idx[r],
                        np.full(len(d), model),
                        np.full(len(d), region),
                        cohort_offset[c] + newer[d, r],
                        cohort_offset[c] + reached[d, r],
                    )
                )
    d, r, m, g, lo, hi = (np.concatenate(x) for x in zip(*parts, strict=True))
    order = np.lexsort((g, m, r, d))
    return Exposure(
        day=d[order],
        release=r[order],
        model=m[order],
        region=g[order],
        lo=lo[order],
        hi=hi[order],
        device_order=device_order,
        cumulative_weight=cumulative_weight,
    )


def expected_errors(cfg: WorldConfig, releases: Releases, exposure: Exposure) -> np.ndarray:
    """Expected error count per exposure row and category, scaled to cfg.n_events in total."""
    weight = exposure.cumulative_weight[exposure.hi] - exposure.cumulative_weight[exposure.lo]
    aging = np.exp(_AGING_PER_YEAR * exposure.day / 365.25)
    susceptible = releases.susceptible_model[exposure.release, exposure.model]
    multiplier = np.where(susceptible[:, None], releases.category_multiplier[exposure.release], 1.0)
    rate = (weight * aging * releases.quality[exposure.release])[:, None] * multiplier
    rate *= np.asarray(CATEGORY_SHARE)[None, :]
    return rate * (cfg.n_events / rate.sum())


@dataclass(frozen=True)
class EventChunk:
    """Error events of a block of days, sorted by time."""

    device: np.ndarray  # device row
    release: np.ndarray  # release row
    occurred_at_s: np.ndarray  # seconds since world start
    category: np.ndarray  # index into ERROR_CATEGORIES
    code: np.ndarray  # index into all_error_codes()
    severity: np.ndarray  # index into SEVERITIES


def all_error_codes() -> tuple[str, ...]:
    """Every error code, category by category."""
    return tuple(code for cat in ERROR_CATEGORIES for code in ERROR_CODES[cat])


def _category_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per category: first code index, code count, severity CDF."""
    counts = np.array([len(ERROR_CODES[c]) for c in ERROR_CATEGORIES])
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    severity_cdf = np.cumsum([SEVERITY_PROBS[c] for c in ERROR_CATEGORIES], axis=1)
    return first, counts, severity_cdf


def simulate_events(
    cfg: WorldConfig, exposure: Exposure, expected: np.ndarray
) -> Iterator[EventChunk]:
    """Yield error events chunk by chunk (CHUNK_DAYS days each; each chunk has its own RNG)."""
    code_first, code_count, severity_cdf = _category_tables()
    bounds = np.searchsorted(exposure.day, np.arange(0, cfg.n_days + CHUNK_DAYS, CHUNK_DAYS))
    for k in range(len(bounds) - 1):
        rows = slice(bounds[k], bounds[k + 1])
        rng = np.random.default_rng([cfg.seed, 1, k])
        counts = rng.poisson(expected[rows])
        flat = np.repeat(np.arange(counts.size), counts.ravel())
        row = bounds[k] + flat // len(ERROR_CATEGORIES)
        category = flat % len(ERROR_CATEGORIES)
        lo_w = exposure.cumulative_weight[exposure.lo[row]]
        hi_w = exposure.cumulative_weight[exposure.hi[row]]
        target = lo_w + rng.uniform(size=len(row)) * (hi_w - lo_w)
        position = np.searchsorted(exposure.cumulative_weight, target, side="right") - 1
        position = np.clip(position, exposure.lo[row], exposure.hi[row] - 1)
        seconds = exposure.day[row] * SECONDS_PER_DAY + rng.integers(0, SECONDS_PER_DAY, len(row))
        code = code_first[category] + (rng.uniform(size=len(row)) * code_count[category]).astype(
            int
        )
        severity = (rng.uniform(size=len(row))[:, None] > severity_cdf[category]).sum(axis=1)
        order = np.argsort(seconds, kind="stable")
        yield EventChunk(
            device=exposure.device_order[position][order],
            release=exposure.release[row][order],
            occurred_at_s=seconds[order],
            category=category[order],
            code=code[order],
            severity=np.minimum(severity, len(SEVERITIES) - 1)[order],
        )


@dataclass(frozen=True)
class Tickets:
    """Support tickets: device row, opened/resolved seconds since start, symptom, resolution."""

    device: np.ndarray
    opened_at_s: np.ndarray
    resolved_at_s: np.ndarray
    symptom: np.ndarray  # str
    resolution: np.ndarray  # str


def tickets_from_events(chunk: EventChunk, rng: np.random.Generator) -> Tickets:
    """Some severe errors make the customer call support days later; some end in an RMA."""
    calls = rng.uniform(size=len(chunk.device)) < _TICKET_PROB[chunk.severity]
    n = int(calls.sum())
    lag = (1 + rng.gamma(2.0, 2.0, n)).clip(max=20) * SECONDS_PER_DAY
    category = chunk.category[calls]
    is_rma = rng.uniform(size=n) < _RMA_PROB[category]
    return _tickets(
        device=chunk.device[calls],
        opened=chunk.occurred_at_s[calls] + lag.astype(np.int64),
        symptom=np.array(_SYMPTOMS)[category],
        is_rma=is_rma,
        rng=rng,
    )


def background_tickets(
    cfg: WorldConfig, exposure: Exposure, n: int, rng: np.random.Generator
) -> Tickets:
    """Tickets that no error event explains (misuse, home network, ...)."""
    row = rng.integers(0, len(exposure.day), n)
    position = exposure.lo[row] + (
        rng.uniform(size=n) * (exposure.hi[row] - exposure.lo[row])
    ).astype(int)
    return _tickets(
        device=exposure.device_order[position],
        opened=exposure.day[row] * SECONDS_PER_DAY + rng.integers(0, SECONDS_PER_DAY, n),
        symptom=np.array(["other", "no_network", "freezes"])[rng.integers(0, 3, n)],
        is_rma=rng.uniform(size=n) < 0.02,
        rng=rng,
    )


def _tickets(*, device, opened, symptom, is_rma, rng: np.random.Generator) -> Tickets:
    n = len(device)
    fixed_remotely = rng.uniform(size=n) < 0.6
    resolution = np.where(is_rma, "rma", np.where(fixed_remotely, "remote_fix", "no_fault_found"))
    resolved = opened + (rng.gamma(2.0, 1.5, n) * SECONDS_PER_DAY).astype(np.int64)
    return Tickets(device, opened, resolved, symptom, resolution)


def concat_tickets(parts: list[Tickets], cfg: WorldConfig) -> Tickets:
    """Join ticket batches as the world's last day sees them, ordered by open time.

    Tickets opened after the last day do not exist yet; tickets resolved after it are
    still open (resolution ``open``, no resolved_at, encoded as -1).
    """
    end = cfg.n_days * SECONDS_PER_DAY
    fields = {
        f: np.concatenate([getattr(p, f) for p in parts]) for f in Tickets.__dataclass_fields__
    }
    keep = fields["opened_at_s"] < end
    order = np.lexsort((fields["device"][keep], fields["opened_at_s"][keep]))
    t = {f: v[keep][order] for f, v in fields.items()}
    still_open = t["resolved_at_s"] >= end
    t["resolution"] = np.where(still_open, "open", t["resolution"])
    t["resolved_at_s"] = np.where(still_open, -1, t["resolved_at_s"])
    return Tickets(**t)
