"""PNG charts for the report (matplotlib, Agg backend, a Korean font when one is installed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NANUM = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    if NANUM.is_file():
        font_manager.fontManager.addfont(str(NANUM))
        plt.rcParams["font.family"] = font_manager.FontProperties(fname=str(NANUM)).get_name()
    plt.rcParams["axes.unicode_minus"] = False
    return plt


def _color(config: str) -> str:
    """The default configuration stands out; the naive baseline is grey."""
    if config == "default":
        return "#1f6feb"
    return "#999999" if config.startswith("baseline") else "#6e9ed6"


def _bars(plt: Any, rows: list[dict[str, Any]], metric: str, title: str, path: Path,
          target: float | None = None) -> Path:
    labels = [f"{r['config']} · {r['mode']}" for r in rows]
    means = [r[metric]["mean"] or 0 for r in rows]
    err_lo = [max(0.0, (r[metric]["mean"] or 0) - (r[metric]["lo"] or 0)) for r in rows]
    err_hi = [max(0.0, (r[metric]["hi"] or 0) - (r[metric]["mean"] or 0)) for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    colors = [_color(r["config"]) for r in rows]
    ax.barh(labels, means, xerr=[err_lo, err_hi], color=colors, capsize=3)
    if target is not None:
        ax.axvline(target, color="#d1242f", linestyle="--", label=f"목표 {target:.2f}")
        ax.legend(loc="lower right")
    for i, m in enumerate(means):  # at the bar's base, clear of the interval whiskers at its end
        ax.text(0.015, i, f"{m:.2f}", va="center", ha="left", fontsize=10, fontweight="bold",
                color="white" if m > 0.08 else "black")
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel("비율 (막대 끝 선: 95% 신뢰구간)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _latency(plt: Any, rows: list[dict[str, Any]], path: Path) -> Path:
    labels = [f"{r['config']} · {r['mode']}" for r in rows]
    p50 = [r["latency_ms"]["p50"] or 0 for r in rows]
    p95 = [r["latency_ms"]["p95"] or 0 for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    y = range(len(rows))
    ax.barh([i - 0.2 for i in y], p50, height=0.4, label="중앙값(p50)", color="#1f6feb")
    ax.barh([i + 0.2 for i in y], p95, height=0.4, label="95백분위(p95)", color="#f0883e")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel("검색 1회 응답 시간 (ms)")
    ax.set_title("검색 속도 (전체 질문)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _answers(plt: Any, rows: list[dict[str, Any]], path: Path) -> Path:
    names = ["abstention_correct", "false_abstention", "conclusion_accuracy", "citation_precision", "groundedness"]
    labels = ["답 없는 질문\n거절", "답 있는 질문\n잘못 거절", "결론 일치\n(법제처)", "인용 정확도", "근거 일치도"]
    row = rows[0]
    vals = [row[n]["mean"] or 0 for n in names]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.bar(labels, vals, color=["#1f6feb", "#d1242f", "#6e9ed6", "#6e9ed6", "#6e9ed6"])
    for i, v in enumerate(vals):
        ax.text(i, v + 0.02, f"{v:.2f}", ha="center")
    ax.axhline(0.90, color="#1f6feb", linestyle=":", linewidth=1)
    ax.axhline(0.05, color="#d1242f", linestyle=":", linewidth=1)
    ax.text(4.45, 0.91, "거절 목표 0.90", ha="right", fontsize=8, color="#1f6feb")
    ax.text(4.45, 0.06, "잘못된 거절 목표 < 0.05", ha="right", fontsize=8, color="#d1242f")
    ax.set_ylim(0, 1.1)
    ax.set_title(f"답변 평가 — {row['config']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_charts(report: dict[str, Any], out_dir: Path) -> list[Path]:
    plt = _pyplot()
    if plt is None:
        return []
    out = []
    for group, fname, target in (("laws+welfare", "recall5_laws_welfare.png", 0.95),
                                 ("allganize (page)", "recall5_allganize.png", 0.92),
                                 ("people laws+welfare", "recall5_people_laws_welfare.png", 0.95),
                                 ("people allganize (page)", "recall5_people_allganize.png", 0.90)):
        split = "blind" if any(r["group"] == group and r.get("split") == "blind" for r in report["retrieval"]) \
            else "all"
        rows = [r for r in report["retrieval"] if r["group"] == group and r.get("split", "all") == split]
        if rows:
            out.append(_bars(plt, rows, "recall@5", f"Recall@5 — {group}", out_dir / fname, target))
    rows = [r for r in report["retrieval"] if r["group"] == "all" and r.get("split", "all") == "all"]
    if rows:
        out.append(_bars(plt, rows, "mrr@10", "MRR@10 — 전체 질문", out_dir / "mrr10_all.png"))
        out.append(_latency(plt, rows, out_dir / "latency.png"))
    answers = [r for r in report["answers"] if r["group"] == "all" and r.get("split", "all") == "all"]
    if answers:
        out.append(_answers(plt, answers, out_dir / "answers.png"))
    return out
