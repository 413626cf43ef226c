"""Time slip rendering into python-escpos' Dummy: Kanji mode (target ≤ 20 ms) and raster (≤ 150 ms).

    python benchmarks/slip_render.py [--runs 200] [--width 58]

Prints JSON with p50/p95/max in milliseconds per mode. Fonts and the message catalogue are loaded
once in a warm-up run, as in a long-running kiosk agent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from datetime import UTC, datetime

from printers.slip import SlipData
from printers.status import render_bytes

TARGET_MS = {"kanji": 20.0, "raster": 150.0}


def measure(mode: str, width: int, runs: int) -> dict[str, float | bool | int]:
    slip = SlipData(
        site_name="練馬区役所 本庁舎",
        service_name="住民票の写し・印鑑登録証明書",
        display_number="A-123",
        issued_at=datetime(2026, 4, 1, 0, 5, tzinfo=UTC),
        ahead=12,
        est_wait_min=20,
        est_wait_max=35,
        status_url="https://madoguchi.example.jp/t/Xy7_abcDEF1234567890",
    )
    render_bytes(slip, mode=mode, width=width)  # type: ignore[arg-type]  # warm-up
    times = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(render_bytes(slip, mode=mode, width=width))  # type: ignore[arg-type]
        times.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(max(times), 2),
        "bytes": size,
        "target_ms": TARGET_MS[mode],
        "meets_target": p95 <= TARGET_MS[mode],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--width", type=int, choices=(58, 80), default=58)
    args = parser.parse_args()
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "runs": args.runs,
        "width_mm": args.width,
        "modes": {mode: measure(mode, args.width, args.runs) for mode in TARGET_MS},
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
