"""What the benchmarks print after their tables: tools not measured, goals met."""

from __future__ import annotations

import sys


def print_missing_and_goals(missing: dict[str, str], goals: list[tuple[str, bool | None, str]],
                            issue: int, out=sys.stdout) -> None:
    """The peers that could not be measured, then each goal marked met / NOT MET."""
    if missing:
        print("\nNOT MEASURED", file=out)
        for name, why in missing.items():
            print(f"  {name}: {why}", file=out)
    print(f"\nGOALS (issue {issue})", file=out)
    for text, met, detail in goals:
        mark = "n/a    " if met is None else ("met    " if met else "NOT MET")
        print(f"  [{mark}] {text}  ({detail})", file=out)


def ratios(row, ref) -> tuple[str, str]:
    """``row``'s best and median time as multiples of the reference peer's."""
    if ref is None:
        return "-", "-"
    return f"{row.best / ref.best:.2f}", f"{row.median / ref.median:.2f}"
