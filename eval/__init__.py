"""Evaluation harness: gold sets, retrieval and answer metrics, configuration comparison, reports.

Run it with ``assistant eval`` (see ``eval/README.md``). Pure metric code lives in :mod:`eval.metrics` and
:mod:`eval.textmatch`; everything that opens indexes or models lives in :mod:`eval.runner` and the
modules it calls.
"""

from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
GOLD_DIR = EVAL_DIR / "gold"
CONFIG_DIR = EVAL_DIR / "configs"
