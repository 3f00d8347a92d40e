"""Process-wide compute settings, applied once when a program starts.

Thread counts are properties of the process, not of a call: Kiwi fixes its worker count when the
analyser is created, FAISS and the BLAS behind numpy keep one OpenMP / BLAS pool each, torch has one
intra-op pool. Passing ``threads`` down through every function (as this code once did) only pretended
to control them. So the CLI and the web app call :func:`configure` once at start-up, and the rest of the
code asks :func:`current` when it needs a number.

Two roles:

``batch``
    One job owns the machine (``assistant ingest``, ``summarize --batch``, eval): every pool gets
    ``settings.threads`` threads.
``server``
    Many requests run at once, each on its own thread. A query's FAISS scan and BLAS products then run
    on ``settings.server_query_threads`` threads (default one): with two cores and twenty users, an
    OpenMP team per query only makes threads spin waiting for a core another request holds (issue 16
    measured 15.5 ms for a 1,000-vector scan on a busy machine against 2.5 ms for 2,000). Kiwi keeps
    ``threads`` workers: they serve only batch analysis (an upload being indexed); a single text is
    analysed on the calling thread. The e5 query encoder keeps ``threads`` too: it serves one query at a
    time behind its lock, so its threads never compete with each other.

A program that never calls :func:`configure` (a library user, a test) gets the batch role with the
default settings on first use.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from assistant.config import Settings

Role = Literal["batch", "server"]

DEFAULT_THREADS = 2


@dataclass(frozen=True)
class Runtime:
    """The thread counts this process runs with."""

    role: Role
    threads: int          # Kiwi workers and batch parallelism (embedding slices, parse workers' peers)
    per_query: int        # FAISS (OpenMP) and BLAS threads, per concurrent request


_lock = threading.Lock()
_current: Runtime | None = None
_blas_limit: Any = None   # the threadpoolctl handle, kept so the limit is not undone when it is collected


def configure(settings: Settings | None = None, role: Role = "batch") -> Runtime:
    """Apply the thread settings for this process and remember them; returns what was applied.

    Safe to call again (tests, a CLI command that re-reads settings): pools are resized and the Kiwi
    analyser is rebuilt on next use only when its worker count changes.
    """
    threads = max(1, int(getattr(settings, "threads", DEFAULT_THREADS) or DEFAULT_THREADS))
    server = max(1, int(getattr(settings, "server_query_threads", 1) or 1))
    runtime = Runtime(role=role, threads=threads, per_query=server if role == "server" else threads)
    global _current
    with _lock:
        previous = _current
        _current = runtime
        _apply_pools(runtime)
    if previous is not None and previous.threads != runtime.threads:
        from assistant.korean import morph

        morph.reset()
    return runtime


def current() -> Runtime:
    """The runtime :func:`configure` set, or the batch default (configured now) when nobody did."""
    runtime = _current
    if runtime is None:
        return configure(None)
    return runtime


def _apply_pools(runtime: Runtime) -> None:
    """Size FAISS's OpenMP pool, the BLAS pools numpy loaded, and torch's pool if torch is loaded."""
    global _blas_limit
    from threadpoolctl import threadpool_limits

    n = runtime.per_query
    _blas_limit = threadpool_limits(limits=n)   # every BLAS and OpenMP pool loaded so far
    # FAISS and torch are imported only by the commands that need them; their import sites call
    # :func:`apply_to_faiss` / read :func:`current`, and these lines cover a module imported earlier.
    faiss = sys.modules.get("faiss")
    if faiss is not None:
        apply_to_faiss(faiss)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(runtime.threads)   # only the local LLM uses torch, one generation at a time


def apply_to_faiss(faiss: Any) -> None:
    """Size FAISS's OpenMP pool for this process's role (called when faiss is first imported)."""
    faiss.omp_set_num_threads(current().per_query)
