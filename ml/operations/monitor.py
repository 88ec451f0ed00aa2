"""`patchrisk monitor`: read the fleet watchlist (marts.fct_fleet_watchlist) and render it.

The warehouse is opened read-only in one transaction (ml.warehouse.readers.read_only_warehouse); a
missing file or mart is an EnvironmentFailure (exit 3), an unknown platform a BadInputError
(exit 2).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from ml.errors import BadInputError, EnvironmentFailure
from ml.warehouse.readers import BUILD_HINT, read_only_warehouse

SCHEMA_VERSION = 1
TIERS = ("immediate", "enhanced", "standard", "insufficient_data")
WATCHLIST = "marts.fct_fleet_watchlist"
AGE_EFFECT = "marts.fct_device_age_effect"
RELEASES = "marts.dim_firmware_releases"
AGE_EFFECT_COLUMNS = (
    "log_rate_slope_per_year",
    "log_rate_slope_standard_error",
    "rate_multiplier_per_year",
    "fleet_mean_device_age_years",
)


@dataclass(frozen=True)
class Watchlist:
    """The watchlist rows that pass the filters (at most `limit`), with counts before the limit."""

    warehouse: str
    as_of_date: date | None
    age_effect: dict[str, float | None]
    tiers: list[str]
    platform: str | None
    limit: int | None
    counts: dict[str, int]
    rows: list[dict]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self) -> dict:
        doc = asdict(self)
        return {"schema_version": SCHEMA_VERSION, **doc, "total_rows": self.total}


def _relations(con) -> set[str]:
    rows = con.execute(
        "select table_schema || '.' || table_name from information_schema.tables"
    ).fetchall()
    return {name for (name,) in rows}


def _records(cursor) -> list[dict]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def read_watchlist(
    duckdb_path: Path,
    tiers: tuple[str, ...] = (),
    platform: str | None = None,
    limit: int | None = None,
) -> Watchlist:
    """Watchlist rows in rank order, filtered by tier and platform, at most `limit`."""
    unknown = sorted(set(tiers) - set(TIERS))
    if unknown:
        raise BadInputError(f"unknown tier {unknown[0]!r}; tiers are {', '.join(TIERS)}")
    with read_only_warehouse(duckdb_path) as con:
        missing = [r for r in (WATCHLIST, AGE_EFFECT, RELEASES) if r not in _relations(con)]
        if missing:
            raise EnvironmentFailure(f"{duckdb_path} has no {', '.join(missing)} ({BUILD_HINT})")
        if platform is not None:
            known = [
                p for (p,) in con.execute(f"select distinct platform_id from {RELEASES}").fetchall()
            ]
            if platform not in known:
                raise BadInputError(
                    f"unknown platform {platform!r}; the warehouse has {', '.join(sorted(known))}"
                )
        where, params = ["1 = 1"], []
        if tiers:
            where.append(f"watch_tier in ({', '.join('?' for _ in tiers)})")
            params += list(tiers)
        if platform is not None:
            where.append("platform_id = ?")
            params.append(platform)
        condition = " and ".join(where)
        counts = dict(
            con.execute(
                f"select watch_tier, count(*) from {WATCHLIST} where {condition} group by 1",
                params,
            ).fetchall()
        )
        rows = _records(
            con.execute(
                f"select * from {WATCHLIST} where {condition} order by watch_rank"
                + (f" limit {int(limit)}" if limit is not None else ""),
                params,
            )
        )
        effect = _records(con.execute(f"select * from {AGE_EFFECT}"))
    age_effect = {c: effect[0][c] if effect else None for c in AGE_EFFECT_COLUMNS}
    return Watchlist(
        warehouse=str(duckdb_path),
        as_of_date=effect[0]["as_of_date"] if effect else None,
        age_effect=age_effect,
        tiers=list(tiers),
        platform=platform,
        limit=limit,
        counts={tier: int(counts.get(tier, 0)) for tier in TIERS},
        rows=rows,
    )


def render_json(watchlist: Watchlist) -> str:
    """The watchlist as a JSON document (dates as YYYY-MM-DD)."""
    return json.dumps(watchlist.as_dict(), indent=2, default=str) + "\n"


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


TEXT_WIDTH = 100
LEGEND = (
    "columns: dev-days: the cohort band's device-days on the release; err/10k: errors per 10k "
    "device-days; z: z statistic of the age-adjusted error-rate ratio to the previous "
    "firmware; risk: age-weighted risk score (that ratio x the band's age multiplier)"
)


def render_text(watchlist: Watchlist) -> str:
    """A headline, the age effect, one line per row with its reason wrapped beneath, and a
    legend of the columns; at most TEXT_WIDTH columns on the default world."""
    counts = ", ".join(f"{n:,} {tier.replace('_', ' ')}" for tier, n in watchlist.counts.items())
    effect = watchlist.age_effect
    slope = effect["log_rate_slope_per_year"]
    lines = [
        f"fleet watchlist as of {watchlist.as_of_date} ({len(watchlist.rows):,} of "
        f"{watchlist.total:,} rows shown)",
        f"tiers: {counts}",
        "age effect: "
        + (
            "not estimable (no within-cohort age contrast)"
            if slope is None
            else f"error rate x{effect['rate_multiplier_per_year']:.2f} per year of device age "
            f"(ln +{slope:.3f}, SE {effect['log_rate_slope_standard_error']:.3f}); "
            f"fleet mean age {effect['fleet_mean_device_age_years']:.1f} y"
        ),
    ]
    if watchlist.rows:
        lines.append(
            f"{'rank':>4}  {'tier':<17} {'release':<15} {'model':<12} {'region':<6} {'age':<4} "
            f"{'dev-days':>8} {'err/10k':>8} {'z':>6} {'risk':>6}"
        )
    reason = textwrap.TextWrapper(TEXT_WIDTH, initial_indent=" " * 6, subsequent_indent=" " * 6)
    for row in watchlist.rows:
        lines.append(
            f"{row['watch_rank']:>4}  {row['watch_tier']:<17} {row['release_id']:<15} "
            f"{row['device_model_id']:<12} {row['region']:<6} {row['device_age_band']:<4} "
            f"{_number(row['device_days'], 0):>8} "
            f"{_number(row['errors_per_10k_device_days'], 1):>8} "
            f"{_number(row['rate_ratio_z_score'], 2):>6} "
            f"{_number(row['age_weighted_risk_score'], 2):>6}"
        )
        lines.extend(reason.wrap(row["watch_reason"]))
    if watchlist.rows:
        lines.extend(textwrap.wrap(LEGEND, TEXT_WIDTH))
    return "\n".join(lines) + "\n"
