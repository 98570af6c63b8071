"""RFC timers as keepalived computes them."""

from __future__ import annotations

from vrrpscope.engine.timers import master_down_ns, max_master_down_ns, skew_time_ns

S = 1_000_000_000


def test_v2_skew_is_in_seconds_not_scaled_by_interval() -> None:
    assert skew_time_ns("vrrp", 2, 100, 300) == 156 * S // 256
    assert master_down_ns("vrrp", 2, 100, 300) == 9 * S + 156 * S // 256


def test_v3_skew_scales_with_the_interval() -> None:
    assert skew_time_ns("vrrp", 3, 100, 300) == 156 * 3 * S // 256
    assert skew_time_ns("vrrp", 3, 255, 100) == S // 256


def test_carp_has_no_skew_and_longest_wait_covers_any_advskew() -> None:
    assert skew_time_ns("carp", 2, None, 100) == 0
    assert master_down_ns("carp", 2, None, 150) == 3 * 15 * S // 10
    assert max_master_down_ns("carp", 2, 100) == 6 * S
    assert max_master_down_ns("vrrp", 2, 100) == master_down_ns("vrrp", 2, 1, 100)
