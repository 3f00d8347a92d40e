"""Fuzz ingestion: mutate real Korean documents in every format and ingest them in batches.

Seeds (~42: PDF, DOCX, HWPX, HWP, HTML, Markdown, text) are rendered from the shared corpus
(bench/_fuzz_seeds.py); each mutant gets one or two mutations: bit flips, truncation, inserted, deleted,
duplicated or overwritten bytes, zip members corrupted, cut, dropped, duplicated, expanded, inflated or
given a lying size, HWP body streams corrupted, and text shapes (long runs without spaces, repeated
headings, form feeds, NUL bytes, short lines, deep HTML nesting, YAML front-matter aliases).

Each batch is ingested through the public ``Ingestor`` in its own process (``--child``), with a wall-time
limit, so a crash or an out-of-memory kill is counted instead of ending the bench. Prints files ok /
failed with a reason / over the per-file budget / lost in a crashed or killed batch, peak RSS of the batch
processes (and their parse workers), top reasons, seconds, and whether every good file is in its index.
Deterministic for a given ``--seed``; writes ``OUT/fuzz.json`` and ``OUT/mutants.jsonl`` (each batch's
mutants and index are removed once it is counted, unless ``--keep``).

    .venv/bin/python bench/fuzz_ingest.py --files 200 --batch-size 50        # smoke run, a few minutes
    .venv/bin/python bench/fuzz_ingest.py --files 1500 --batch-size 50       # the full run
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

OVER_BUDGET = re.compile(r"처리 시간이 너무 깁니다|메모리 한도|메모리가 너무 많이")
ZIPS = (".docx", ".hwpx")
TEXTS = (".md", ".txt", ".html")

# --- mutations: (rng, data, ext) -> (data, label) -------------------------------------------------------


def bitflip(rng: random.Random, data: bytes, ext: str) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def truncate(rng: random.Random, data: bytes, ext: str) -> bytes:
    return data[:rng.randint(1, max(1, len(data) - 1))]


def insert_bytes(rng: random.Random, data: bytes, ext: str) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.randint(1, 64)) + data[at:]


def delete_range(rng: random.Random, data: bytes, ext: str) -> bytes:
    at = rng.randrange(len(data))
    return data[:at] + data[at + rng.randint(1, max(1, len(data) // 10)):]


def duplicate_range(rng: random.Random, data: bytes, ext: str) -> bytes:
    at = rng.randrange(len(data))
    piece = data[at:at + rng.randint(1, 65536)]
    return data[:at] + piece * rng.randint(2, 20) + data[at:]


def overwrite(rng: random.Random, data: bytes, ext: str) -> bytes:
    at = rng.randrange(len(data))
    n = rng.randint(1, 4096)
    return data[:at] + bytes([rng.choice((0, 0xFF))]) * n + data[at + n:]


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # duplicate names are one of the mutations
            for name, content in members:
                zf.writestr(name, content)
    return buf.getvalue()


def _main_member(members: list[tuple[str, bytes]]) -> int:
    for k, (name, _) in enumerate(members):
        if name in ("word/document.xml", "Contents/section0.xml"):
            return k
    return len(members) - 1


def member_flip(rng: random.Random, data: bytes, ext: str) -> bytes:
    members = _members(data)
    k = rng.randrange(len(members)) if rng.random() < 0.3 else _main_member(members)
    name, content = members[k]
    members[k] = (name, bitflip(rng, content, ext) if content else content)
    return _zip(members)


def member_truncate(rng: random.Random, data: bytes, ext: str) -> bytes:
    members = _members(data)
    k = _main_member(members)
    members[k] = (members[k][0], truncate(rng, members[k][1], ext))
    return _zip(members)


def member_drop(rng: random.Random, data: bytes, ext: str) -> bytes:
    members = _members(data)
    del members[rng.randrange(len(members))]
    return _zip(members or [("empty", b"")])


def member_duplicate(rng: random.Random, data: bytes, ext: str) -> bytes:
    members = _members(data)
    k = _main_member(members)
    return _zip(members + [members[k]] * rng.randint(1, 50))


def member_expand(rng: random.Random, data: bytes, ext: str) -> bytes:
    """The main XML with its body paragraphs repeated (a long, honest document)."""
    members = _members(data)
    k = _main_member(members)
    name, content = members[k]
    tag = b"<w:p>" if ext == ".docx" else b"<hp:p "
    first, last = content.find(tag), content.rfind(b"</w:body>" if ext == ".docx" else b"</hs:sec>")
    if first < 0 or last < first:
        return data
    body = content[first:last]
    members[k] = (name, content[:first] + body * rng.choice((10, 100, 400)) + content[last:])
    return _zip(members)


def member_bomb(rng: random.Random, data: bytes, ext: str) -> bytes:
    members = _members(data)
    k = _main_member(members)
    members[k] = (members[k][0], members[k][1] + b" " * (rng.choice((5, 50, 300)) << 20))
    return _zip(members)


def member_lie(rng: random.Random, data: bytes, ext: str) -> bytes:
    """The central directory entry of the main member declares a wrong uncompressed size."""
    out = bytearray(data)
    at = out.rfind(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", out, at + 28)[0]
        name = bytes(out[at + 46:at + 46 + name_len])
        if name in (b"word/document.xml", b"Contents/section0.xml"):
            size = struct.unpack_from("<L", out, at + 24)[0]
            struct.pack_into("<L", out, at + 24, rng.choice((0, 16, size // 2, size * 2)))
            break
        at = out.rfind(b"PK\x01\x02", 0, at)
    return bytes(out)


def hwp_stream(rng: random.Random, data: bytes, ext: str) -> bytes:
    """A body section of the OLE file overwritten in place (same size) with flipped or random bytes."""
    import olefile

    buf = io.BytesIO(data)
    try:
        with olefile.OleFileIO(buf, write_mode=True) as ole:
            streams = ["/".join(s) for s in ole.listdir() if s[0] == "BodyText"]
            name = rng.choice(streams)
            content = ole.openstream(name).read()
            new = bitflip(rng, content, ext) if rng.random() < 0.6 else rng.randbytes(len(content))
            ole.write_stream(name, new)
    except Exception:  # noqa: BLE001 — a seed olefile cannot rewrite: flip bytes instead
        return bitflip(rng, data, ext)
    return buf.getvalue()


def _text_insert(rng: random.Random, data: bytes, piece: str) -> bytes:
    at = rng.randrange(len(data) + 1)
    while at < len(data) and 0x80 <= data[at] < 0xC0:   # not inside a UTF-8 sequence
        at += 1
    return data[:at] + piece.encode("utf-8") + data[at:]


def long_run(rng: random.Random, data: bytes, ext: str) -> bytes:
    run = rng.choice(("민원처리기간안내", "a", "가나다라", "…"))
    return _text_insert(rng, data, run * rng.choice((10_000, 200_000)))


def repeated_headings(rng: random.Random, data: bytes, ext: str) -> bytes:
    line = "#" * rng.randint(1, 8) + " " + "#" * rng.choice((0, 100, 5000)) + " 제목\n"
    if ext == ".html":
        line = "<h2>" + "제목 " * rng.randint(1, 3) + "</h2>"
    return _text_insert(rng, data, "\n" + line * rng.choice((100, 5000, 50_000)))


def form_feeds(rng: random.Random, data: bytes, ext: str) -> bytes:
    return _text_insert(rng, data, ("\f" * rng.randint(1, 10) + "민원 ") * rng.choice((1000, 50_000)))


def nul_bytes(rng: random.Random, data: bytes, ext: str) -> bytes:
    return _text_insert(rng, data, "\0" * rng.choice((1, 10, 10_000)))


def short_lines(rng: random.Random, data: bytes, ext: str) -> bytes:
    return _text_insert(rng, data, "가나\n" * rng.choice((10_000, 300_000)))


def deep_nesting(rng: random.Random, data: bytes, ext: str) -> bytes:
    depth = rng.choice((500, 5000, 50_000))
    tag = rng.choice(("div", "p", "ul", "table"))
    return _text_insert(rng, data, f"<{tag}>" * depth + "민원" + f"</{tag}>" * depth)


def yaml_aliases(rng: random.Random, data: bytes, ext: str) -> bytes:
    lines = ['a: &a ["민원","민원","민원","민원"]']
    prev = "a"
    for name in "bcdefgh"[:rng.randint(2, 7)]:
        lines.append(f"{name}: &{name} [*{prev},*{prev},*{prev},*{prev}]")
        prev = name
    return ("---\n" + "\n".join(lines) + "\n---\n").encode() + re.sub(rb"\A---\n.*?\n---\n", b"", data, flags=re.S)


def line_endings(rng: random.Random, data: bytes, ext: str) -> bytes:
    return data.replace(b"\n", rng.choice((b"\r\n", b"\r", b"\n\r\n\r")))


def pdf_xref(rng: random.Random, data: bytes, ext: str) -> bytes:
    """The startxref offset, an xref entry or the trailer broken."""
    choice = rng.randrange(3)
    if choice == 0:
        return re.sub(rb"startxref\s+\d+", b"startxref\n%d" % rng.randrange(len(data)), data)
    if choice == 1:
        return data.replace(b"%%EOF", b"", 1)
    at = data.rfind(b"xref")
    return data[:at] + bitflip(rng, data[at:], ext) if at >= 0 else data


Mutation = Callable[[random.Random, bytes, str], bytes]
GENERIC: list[Mutation] = [bitflip, bitflip, truncate, insert_bytes, delete_range, duplicate_range, overwrite]
BY_FORMAT: dict[str, list[Mutation]] = {
    ".docx": [member_flip, member_flip, member_truncate, member_drop, member_duplicate, member_expand,
              member_bomb, member_lie],
    ".hwpx": [member_flip, member_flip, member_truncate, member_drop, member_duplicate, member_expand,
              member_bomb, member_lie],
    ".hwp": [hwp_stream, hwp_stream, hwp_stream],
    ".pdf": [pdf_xref, pdf_xref],
    ".md": [long_run, repeated_headings, form_feeds, nul_bytes, short_lines, yaml_aliases, line_endings],
    ".txt": [long_run, repeated_headings, form_feeds, nul_bytes, short_lines, line_endings],
    ".html": [long_run, repeated_headings, form_feeds, nul_bytes, deep_nesting, line_endings],
}


def mutate(rng: random.Random, data: bytes, ext: str) -> tuple[bytes, list[str]]:
    labels = []
    for _ in range(1 if rng.random() < 0.7 else 2):
        pool = BY_FORMAT.get(ext, []) if rng.random() < 0.6 else GENERIC
        mutation = rng.choice(pool or GENERIC)
        try:
            data = mutation(rng, data, ext) or b"\0"
        except Exception:  # noqa: BLE001 — an earlier mutation broke the container this one needs
            continue
        labels.append(mutation.__name__)
    return data, labels


def write_mutants(seeds: list[Path], folder: Path, files: int, batch_size: int, seed: int) -> list[Path]:
    """Mutants in batch folders ``b000``, ``b001``… and ``mutants.jsonl`` saying how each was made."""
    batches: list[Path] = []
    log = []
    for i in range(files):
        rng = random.Random(f"{seed}-{i}")
        source = seeds[i % len(seeds)]
        data, labels = mutate(rng, source.read_bytes(), source.suffix)
        batch = folder / f"b{i // batch_size:03d}"
        if not batches or batches[-1] != batch:
            batch.mkdir(parents=True, exist_ok=True)
            batches.append(batch)
        name = f"{i:05d}_{source.stem}_{'+'.join(labels) or 'none'}{source.suffix}"
        (batch / name).write_bytes(data)
        log.append({"file": name, "seed": source.name, "mutations": labels, "bytes": len(data)})
    (folder.parent / "mutants.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log), encoding="utf-8")
    return batches


# --- one batch in a child process ----------------------------------------------------------------------

def child(batch: Path, index_dir: Path) -> None:
    """Ingest ``batch`` into a fresh index and print one JSON line per file, then one for the index."""
    from assistant.config import Settings
    from assistant.index.embedders import make_embedder
    from assistant.index.store import IndexStore
    from assistant.ingest.pipeline import Ingestor
    from assistant.retrieve.search import open_retriever

    settings = Settings(index_dir=index_dir, index_name="fuzz", embedder="none", semantic_embedder="none")
    store = IndexStore(settings.index_dir, settings.index_name)
    last = time.perf_counter()

    def on_file(outcome) -> None:
        nonlocal last
        now = time.perf_counter()
        print(json.dumps({"file": Path(outcome.path).name, "status": outcome.status, "reason": outcome.reason,
                          "chunks": outcome.chunks, "warnings": list(getattr(outcome, "warnings", []) or []),
                          "s": round(now - last, 2)}, ensure_ascii=False), flush=True)
        last = now

    Ingestor(settings, store, make_embedder(settings)).run([batch], on_file=on_file)
    indexed: list[str] = []
    hits = 0
    if store.exists():
        indexed = sorted(Path(e.source).name for e in store.open().manifest.documents.values())
        hits = len(open_retriever(settings).search("민원 처리", k=5, mode="bm25"))
    print(json.dumps({"indexed": indexed, "search_hits": hits}), flush=True)


def run_batch(batch: Path, out: Path, timeout_s: float, memory_gb: float) -> dict:
    """Ingest one batch folder in a child process; its outcomes, exit, seconds and peak RSS (wait4: the
    child and the processes it reaped, i.e. its parse workers)."""
    index_dir = out / "indexes" / batch.name

    def limit() -> None:
        if memory_gb > 0:
            cap = int(memory_gb * (1 << 30))
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    start = time.perf_counter()
    with open(out / "logs" / f"{batch.name}.stderr", "wb") as err:
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(batch), str(index_dir)], cwd=out,
                                stdout=subprocess.PIPE, stderr=err, preexec_fn=limit, start_new_session=True)
        chunks: list[bytes] = []
        stdout = proc.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: chunks.append(stdout.read()), daemon=True)
        reader.start()
        killed = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - start > timeout_s:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(10)
    outcomes, index = [], None
    for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "indexed" in row:
            index = row
        else:
            outcomes.append(row)
    return {"batch": batch.name, "files": len(list(batch.iterdir())), "outcomes": outcomes, "index": index,
            "rc": proc.returncode, "killed": killed, "seconds": round(time.perf_counter() - start, 1),
            "maxrss_mb": usage.ru_maxrss // 1024}


# --- summary ---------------------------------------------------------------------------------------------

def _shape(reason: str) -> str:
    """A reason with its numbers and quoted names taken out, to count alike reasons together."""
    return re.sub(r"'[^']*'", "'…'", re.sub(r"\d[\d,.]*", "N", reason))[:110]


def summarise(results: list[dict], seconds: float) -> dict:
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    by_format: dict[str, Counter[str]] = {}
    slowest: list[tuple[float, str]] = []
    not_indexed = warned = 0
    for r in results:
        indexed = set((r["index"] or {}).get("indexed", []))
        for o in r["outcomes"]:
            kind = o["status"]
            if kind == "failed":
                kind = "over-budget" if OVER_BUDGET.search(o["reason"]) else "failed"
                reasons[_shape(o["reason"])] += 1
            elif kind == "ok":
                warned += bool(o["warnings"])
                not_indexed += o["file"] not in indexed
            counts[kind] += 1
            by_format.setdefault(Path(o["file"]).suffix, Counter())[kind] += 1
            slowest.append((o["s"], o["file"]))
        lost = r["files"] - len(r["outcomes"])
        counts["lost"] += lost
        if r["rc"] != 0 or r["killed"] or r["index"] is None:
            counts["crashed batches"] += 1
    return {"counts": dict(counts), "by_format": {k: dict(v) for k, v in sorted(by_format.items())},
            "top_reasons": reasons.most_common(12), "ok_with_warnings": warned, "ok_not_in_index": not_indexed,
            "slowest": sorted(slowest, reverse=True)[:8], "batches": len(results),
            "batch_seconds_max": max((r["seconds"] for r in results), default=0),
            "peak_rss_mb": max((r["maxrss_mb"] for r in results), default=0), "seconds": round(seconds, 1)}


def report(summary: dict, files: int) -> None:
    c = summary["counts"]
    print(f"\nfuzz ingest: {files} files in {summary['batches']} batches, {summary['seconds']} s "
          f"(slowest batch {summary['batch_seconds_max']} s)")
    print(f"  ok {c.get('ok', 0)} (with warnings {summary['ok_with_warnings']}), failed with a reason "
          f"{c.get('failed', 0)}, over budget (reported) {c.get('over-budget', 0)}, skipped {c.get('skipped', 0)}")
    print(f"  crashed batches {c.get('crashed batches', 0)}, files lost in them {c.get('lost', 0)}, "
          f"ok files missing from their index {summary['ok_not_in_index']}")
    print(f"  peak RSS of batch processes and parse workers: {summary['peak_rss_mb']} MB")
    for ext, row in summary["by_format"].items():
        print(f"  {ext:6} " + ", ".join(f"{k} {v}" for k, v in sorted(row.items())))
    print("  top reasons:")
    for reason, n in summary["top_reasons"]:
        print(f"    {n:5}  {reason}")
    print("  slowest files (s, approx.): " + ", ".join(f"{s} {name}" for s, name in summary["slowest"][:5]))


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=1500, help="mutants to make and ingest (default 1500)")
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--per-format", type=int, default=6, help="seed documents per format (7 formats)")
    ap.add_argument("--batch-timeout", type=float, default=900.0, help="seconds before a batch is killed")
    ap.add_argument("--batch-memory-gb", type=float, default=6.0, help="address-space limit of a batch, 0 = none")
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "fuzz")
    ap.add_argument("--keep", action="store_true",
                    help="keep each batch's mutants and index (a full run writes ~3 GB; mutants.jsonl and --seed "
                         "are enough to make them again)")
    args = ap.parse_args()

    from _fuzz_seeds import write_seeds

    out = args.out.resolve()
    for sub in ("seeds", "mutants", "indexes", "logs"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "logs").mkdir(parents=True)
    start = time.perf_counter()
    seeds = write_seeds(args.corpus, out / "seeds", args.per_format, random.Random(args.seed))
    batches = write_mutants(seeds, out / "mutants", args.files, args.batch_size, args.seed)
    print(f"{len(seeds)} seeds, {args.files} mutants in {len(batches)} batches "
          f"({time.perf_counter() - start:.0f} s); ingesting…", flush=True)
    results = []
    for batch in batches:
        r = run_batch(batch, out, args.batch_timeout, args.batch_memory_gb)
        results.append(r)
        if not args.keep:
            shutil.rmtree(batch, ignore_errors=True)
            shutil.rmtree(out / "indexes" / batch.name, ignore_errors=True)
        print(f"  {r['batch']}: {len(r['outcomes'])}/{r['files']} reported, rc {r['rc']}"
              f"{' KILLED' if r['killed'] else ''}, {r['seconds']} s, peak RSS {r['maxrss_mb']} MB", flush=True)
    summary = summarise(results, time.perf_counter() - start)
    (out / "fuzz.json").write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()},
                                               "summary": summary, "batches": results}, ensure_ascii=False,
                                              indent=1), encoding="utf-8")
    report(summary, args.files)
    print(f"\nwritten: {out / 'fuzz.json'}, {out / 'mutants.jsonl'}")
    if args.files < 1500:
        print("full run: .venv/bin/python bench/fuzz_ingest.py --files 1500 --batch-size 50")


if __name__ == "__main__":
    main()
