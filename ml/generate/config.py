"""World configuration and the fixed vocabulary of the simulated fleet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

REGIONS = ("na", "eu", "apac", "latam")
REGION_WEIGHTS = (0.35, 0.30, 0.20, 0.15)
# Staged-rollout start delay per region, in days after a release's release_date.
REGION_ROLLOUT_DELAY_DAYS = (0, 0, 1, 2)
# Share of a cohort running a release d = 0, 1, 2 ... days after its rollout started there.
ROLLOUT_CURVE = (0.02, 0.08, 0.20, 0.40, 0.60, 0.80, 0.92, 1.0)

PATCH_TYPES = ("bugfix", "feature", "security", "hotfix")
COMPONENTS = ("audio", "bootloader", "drm", "network", "power", "storage", "ui", "video")
COMPONENT_WEIGHTS = (0.10, 0.07, 0.08, 0.18, 0.08, 0.10, 0.19, 0.20)
# The error category a regression in each component shows up in.
COMPONENT_CATEGORY = {
    "audio": "playback",
    "bootloader": "crash",
    "drm": "playback",
    "network": "network",
    "power": "power",
    "storage": "storage",
    "ui": "ui",
    "video": "playback",
}

ERROR_CATEGORIES = ("crash", "playback", "network", "ui", "power", "storage")
CATEGORY_SHARE = (0.12, 0.30, 0.25, 0.15, 0.06, 0.12)
ERROR_CODES = {
    "crash": ("CRASH-101", "CRASH-102", "CRASH-110", "CRASH-120"),
    "playback": ("PLAY-201", "PLAY-204", "PLAY-210", "PLAY-230", "PLAY-250"),
    "network": ("NET-301", "NET-302", "NET-320", "NET-340"),
    "ui": ("UI-401", "UI-402", "UI-430"),
    "power": ("PWR-501", "PWR-502", "PWR-510"),
    "storage": ("STO-601", "STO-602", "STO-640"),
}
SEVERITIES = ("low", "medium", "high", "critical")
# P(severity | category), rows in ERROR_CATEGORIES order.
SEVERITY_PROBS = {
    "crash": (0.00, 0.10, 0.45, 0.45),
    "playback": (0.30, 0.45, 0.20, 0.05),
    "network": (0.35, 0.45, 0.15, 0.05),
    "ui": (0.55, 0.35, 0.09, 0.01),
    "power": (0.05, 0.20, 0.40, 0.35),
    "storage": (0.15, 0.35, 0.35, 0.15),
}

# (platform_id, model_name, soc_family, launch_date); several models per platform.
DEVICE_MODEL_CATALOG = (
    ("ares", "Ares 4K", "mt8695", date(2017, 4, 1)),
    ("ares", "Ares 4K Pro", "mt8695", date(2018, 9, 1)),
    ("boreas", "Boreas Stick", "s905y2", date(2018, 6, 1)),
    ("boreas", "Boreas Stick Lite", "s905y2", date(2019, 10, 1)),
    ("cronos", "Cronos Box", "s905x3", date(2019, 5, 1)),
    ("cronos", "Cronos Box Max", "s905x3", date(2020, 11, 1)),
    ("daphne", "Daphne TV Module", "rtd1319", date(2020, 3, 1)),
    ("eos", "Eos Stick 4K", "mt8696", date(2021, 2, 1)),
    ("eos", "Eos Stick 4K Max", "mt8696", date(2022, 6, 1)),
    ("fenrir", "Fenrir Cube", "s905x4", date(2021, 9, 1)),
    ("gaia", "Gaia Soundbar", "rtd1315", date(2022, 3, 1)),
    ("gaia", "Gaia Soundbar Plus", "rtd1315", date(2023, 1, 1)),
    ("helios", "Helios Ultra", "s928x", date(2023, 5, 1)),
    ("helios", "Helios Ultra Mini", "s928x", date(2023, 9, 1)),
)
# Launched only in a drift world, on the drift date.
DRIFT_PLATFORM = ("zephyr", "Zephyr 8K", "mt9950")
# A device joins the fleet at least this many days after it was made.
SHIPPING_DAYS = 14

# Ranges of a world's options (WorldConfig.validate). The upper bounds keep the peak memory
# near 2 GB at most (measured: 1M devices with few events peaked at 0.5 GB; 10M events in a
# 60-day world, 4.7M of them in one 28-day chunk, at 1.4 GB; the README's 100M-event world
# at 1.8 GB): the generator holds every device in a DataFrame, per platform a days x
# releases rollout matrix, and 28 days of events at a time.
MAX_SEED = 2**63 - 1  # a signed 64-bit integer, as world.json and the benchmarks store it
# Every catalog model has launched and shipped devices before the world starts.
EARLIEST_START_DATE = max(m[3] for m in DEVICE_MODEL_CATALOG) + timedelta(days=SHIPPING_DAYS + 1)
LATEST_END_DATE = date(2199, 12, 31)  # nanosecond timestamps (pandas, Arrow) end in 2262
MIN_DAYS, MAX_DAYS = 60, 3653  # 10 years: rollout matrices of 3,653 x 1,826 (53 MB each)
MAX_DEVICES = 2_000_000  # about 1 GB
MIN_EVENTS, MAX_EVENTS_PER_DAY = 1000, 150_000  # a 28-day chunk of 4.2M events: about 1.3 GB


class ConfigError(ValueError):
    """A world configuration that cannot be generated."""


@dataclass(frozen=True)
class WorldConfig:
    """Size, time span and randomness of one simulated world.

    ``drift_at``: from this date on, (1) a new platform ``zephyr`` with a young fleet
    launches, (2) a process change shifts the world: patches are ~1.8x larger, the
    effect of code churn on regression risk drops to a third, touching many components
    matters twice as much and test changes no longer protect.
    """

    seed: int = 42
    n_releases: int = 2000
    n_devices: int = 6000
    n_events: int = 300_000
    start_date: date = date(2024, 1, 1)
    end_date: date = date(2026, 6, 30)
    drift_at: date | None = None

    @property
    def n_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def validate(self) -> None:
        """Raise ConfigError with a one-line reason if the world cannot be generated."""
        n_platforms = len({m[0] for m in DEVICE_MODEL_CATALOG}) + (self.drift_at is not None)
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"--seed must be between 0 and {MAX_SEED}")
        if self.start_date < EARLIEST_START_DATE:
            raise ConfigError(
                f"--start-date must be on or after {EARLIEST_START_DATE} (the last device "
                "model launches shortly before)"
            )
        if self.end_date > LATEST_END_DATE:
            raise ConfigError(f"--end-date must be on or before {LATEST_END_DATE}")
        if self.n_days < MIN_DAYS:
            raise ConfigError(f"end date must be at least {MIN_DAYS} days after start date")
        if self.n_days > MAX_DAYS:
            raise ConfigError(f"the time span must be at most {MAX_DAYS:,} days (10 years)")
        if self.n_releases < 4 * n_platforms:
            raise ConfigError(f"--releases must be at least {4 * n_platforms}")
        if self.n_releases > n_platforms * (self.n_days // 2):
            raise ConfigError("--releases too large for the time span (max one per 2 days)")
        if self.n_devices < 20 * n_platforms * len(REGIONS):
            raise ConfigError(f"--devices must be at least {20 * n_platforms * len(REGIONS)}")
        if self.n_devices > MAX_DEVICES:
            raise ConfigError(f"--devices must be at most {MAX_DEVICES:,}")
        if self.n_events < MIN_EVENTS:
            raise ConfigError(f"--events must be at least {MIN_EVENTS:,}")
        if self.n_events > MAX_EVENTS_PER_DAY * self.n_days:
            raise ConfigError(
                f"--events must be at most {MAX_EVENTS_PER_DAY:,} per day of the time span "
                f"({MAX_EVENTS_PER_DAY * self.n_days:,} here)"
            )
        if self.drift_at is not None and not (
            self.start_date + timedelta(days=MIN_DAYS)
            <= self.drift_at
            <= self.end_date - timedelta(days=MIN_DAYS)
        ):
            raise ConfigError(f"--drift-at must be at least {MIN_DAYS} days inside the time span")
