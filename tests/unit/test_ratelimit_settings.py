"""The per-key token bucket, and the service settings read from the environment."""

from __future__ import annotations

import pytest

from adjudicator.settings import ServiceSettings, SettingsError
from api.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.retry_after("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.retry_after("k") == 1  # needs 0.5 s: whole seconds, at least 1
    assert limiter.retry_after("other") == 0
    clock.now += 0.5
    assert limiter.retry_after("k") == 0
    clock.now += 100
    assert [limiter.retry_after("k") for _ in range(4)] == [0, 0, 0, 1]  # refills to burst only


def test_retry_after_counts_whole_seconds_to_the_next_token() -> None:
    limiter = RateLimiter(rate=0.1, burst=1, clock=Clock())
    assert limiter.retry_after("k") == 0
    assert limiter.retry_after("k") == 10


def test_workers_share_the_service_wide_limit_and_zero_turns_it_off() -> None:
    shared = RateLimiter.share(2000, 4000, 2)
    assert (shared.rate, shared.burst) == (1000, 2000)
    off = RateLimiter.share(0, 10, 2)
    assert not off.enabled and all(off.retry_after("k") == 0 for _ in range(100))


def test_settings_defaults() -> None:
    settings = ServiceSettings.from_env({})
    assert settings == ServiceSettings()
    assert (settings.host, settings.port, settings.workers, settings.threads) == (
        "127.0.0.1", 8000, 2, 2,
    )  # fmt: skip
    assert settings.graceful_timeout == 30 and settings.max_body_bytes == 1024 * 1024
    assert (settings.rate_limit, settings.rate_burst) == (2000.0, 4000)
    assert settings.log_level == "info" and settings.metrics_dir is None


def test_settings_from_the_environment() -> None:
    settings = ServiceSettings.from_env(
        {
            "ADJUDICATOR_HOST": "0.0.0.0",
            "ADJUDICATOR_PORT": "9000",
            "ADJUDICATOR_WORKERS": "4",
            "ADJUDICATOR_THREADS": "1",
            "ADJUDICATOR_TIMEOUT": "60",
            "ADJUDICATOR_GRACEFUL_TIMEOUT": "5",
            "ADJUDICATOR_MAX_BODY_BYTES": "2048",
            "ADJUDICATOR_LOG_LEVEL": "WARNING",
            "ADJUDICATOR_RATE_LIMIT": "50",
            "ADJUDICATOR_RATE_BURST": "100",
            "ADJUDICATOR_METRICS_DIR": "/var/tmp/m",
        }
    )
    assert settings == ServiceSettings(
        host="0.0.0.0", port=9000, workers=4, threads=1, timeout=60, graceful_timeout=5,
        max_body_bytes=2048, log_level="warning", rate_limit=50.0, rate_burst=100,
        metrics_dir="/var/tmp/m",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADJUDICATOR_PORT", "http"),
        ("ADJUDICATOR_WORKERS", "0"),
        ("ADJUDICATOR_RATE_LIMIT", "-1"),
        ("ADJUDICATOR_RATE_LIMIT", "nan"),
        ("ADJUDICATOR_LOG_LEVEL", "loud"),
    ],
)
def test_bad_settings_name_their_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ServiceSettings.from_env({name: value})
