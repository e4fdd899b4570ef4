"""Measure the PII scrubber on the labelled sample: per-kind precision and recall, and speed.

    python -m bench.pii_eval                  # all, dev and test halves; overlap match
    python -m bench.pii_eval --split test     # the half not used to tune the rules
    python -m bench.pii_eval --origin real    # only the untouched real sentences
    python -m bench.pii_eval --match exact --errors
    python -m bench.pii_eval --speed          # texts/s on the sample and on real Q+A entries

A predicted span counts as correct when it overlaps a labelled span of the same kind (``overlap``)
or has exactly its offsets (``exact``); a labelled span counts as found under the same rule.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.pii import ALL_KINDS, PIIScrubber, Span

log = logging.getLogger(__name__)

DEFAULT_SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii_sample.jsonl"
DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
KINDS = ("email", "phone", "url", "id_number", "person")


@dataclass
class Counts:
    tp_pred: int = 0  # predicted spans that match a label
    pred: int = 0
    tp_gold: int = 0  # labelled spans that were found
    gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp_pred / self.pred if self.pred else 1.0

    @property
    def recall(self) -> float:
        return self.tp_gold / self.gold if self.gold else 1.0


@dataclass
class Report:
    per_kind: dict[str, Counts] = field(default_factory=lambda: {k: Counts() for k in KINDS})
    overall: Counts = field(default_factory=Counts)
    # Redaction-level: was a labelled span covered by any predicted span, whatever its kind?
    covered: Counts = field(default_factory=Counts)
    errors: list[str] = field(default_factory=list)


def load_sample(path: Path = DEFAULT_SAMPLE, split: str = "all") -> list[dict]:
    records = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    if split != "all":
        records = [r for r in records if r.get("split") == split]
    return records


def _match(a: tuple[int, int], b: tuple[int, int], mode: str) -> bool:
    if mode == "exact":
        return a == b
    return a[0] < b[1] and b[0] < a[1]


def evaluate(
    records: Iterable[dict], *, match: str = "overlap", use_known_names: bool = True
) -> Report:
    report = Report()
    plain = PIIScrubber()
    for rec in records:
        text = rec["text"]
        known = rec.get("known_names") or ()
        scrubber = PIIScrubber(known_names=known) if (known and use_known_names) else plain
        pred: list[Span] = scrubber.find(text)
        gold = [(s["start"], s["end"], s["kind"]) for s in rec["spans"]]
        for kind in KINDS:
            p = [(s.start, s.end) for s in pred if s.kind == kind]
            g = [(s, e) for s, e, k in gold if k == kind]
            c = report.per_kind[kind]
            c.pred += len(p)
            c.gold += len(g)
            for ps in p:
                if any(_match(ps, gs, match) for gs in g):
                    c.tp_pred += 1
                else:
                    report.errors.append(
                        f"FP {kind:9s} {text[ps[0] : ps[1]]!r:40} | {rec['source']} | {text[max(0, ps[0] - 50) : ps[1] + 30]!r}"
                    )
            for gs in g:
                if any(_match(ps, gs, match) for ps in p):
                    c.tp_gold += 1
                else:
                    report.errors.append(
                        f"FN {kind:9s} {text[gs[0] : gs[1]]!r:40} | {rec['source']} | {text[max(0, gs[0] - 50) : gs[1] + 30]!r}"
                    )
        any_pred = [(s.start, s.end) for s in pred]
        for gs in [(s, e) for s, e, _ in gold]:
            report.covered.gold += 1
            report.covered.tp_gold += any(_match(ps, gs, match) for ps in any_pred)
        for ps in any_pred:
            report.covered.pred += 1
            report.covered.tp_pred += any(_match(ps, (s, e), match) for s, e, _ in gold)
    for c in report.per_kind.values():
        report.overall.tp_pred += c.tp_pred
        report.overall.pred += c.pred
        report.overall.tp_gold += c.tp_gold
        report.overall.gold += c.gold
    return report


def format_report(report: Report, title: str) -> str:
    lines = [
        title,
        f"{'kind':10s} {'labels':>6s} {'found':>6s} {'recall':>7s} {'predicted':>9s} {'precision':>9s}",
    ]
    rows = [(k, report.per_kind[k]) for k in KINDS] + [
        ("overall", report.overall),
        ("any kind", report.covered),
    ]
    for name, c in rows:
        lines.append(
            f"{name:10s} {c.gold:6d} {c.tp_gold:6d} {c.recall:7.3f} {c.pred:9d} {c.precision:9.3f}"
        )
    return "\n".join(lines)


def benchmark(
    texts: Sequence[str], kinds: frozenset[str], n: int = 20_000, repeat: int = 3
) -> tuple[float, float]:
    """Texts per second for one scrubber over `n` texts from `texts`, best of `repeat` runs.

    Returns (by the wall clock, by this process's CPU time): on a busy machine the second says
    what the code costs, the first what it got.
    """
    scrubber = PIIScrubber(kinds=kinds)
    batch = [texts[i % len(texts)] for i in range(n)]
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        for t in batch:
            scrubber.redact(t)
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return n / wall, n / max(cpu, 1e-9)


def real_entries(directory: Path = DEFAULT_REAL) -> list[str]:
    """Question + answer of every pair in the shared real data: long, realistic export entries."""
    entries = []
    for path in sorted(directory.glob("*.qa.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            entries.append(f"{pair['question']}\n{pair['answer']}")
    return entries


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pii_eval", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sample", type=Path, default=DEFAULT_SAMPLE)
    parser.add_argument(
        "--split", choices=("all", "dev", "test"), default=None, help="default: all, dev and test"
    )
    parser.add_argument(
        "--origin",
        choices=("all", "real", "injected"),
        default="all",
        help="real or injected lines",
    )
    parser.add_argument("--match", choices=("overlap", "exact"), default="overlap")
    parser.add_argument(
        "--no-known-names", action="store_true", help="ignore the expert names given in the sample"
    )
    parser.add_argument(
        "--errors", action="store_true", help="print every false positive and false negative"
    )
    parser.add_argument("--speed", action="store_true", help="also measure texts per second")
    parser.add_argument("--real", type=Path, default=DEFAULT_REAL, help="real Q+A data for --speed")
    args = parser.parse_args(argv)

    splits = [args.split] if args.split else ["all", "dev", "test"]
    for split in splits:
        records = load_sample(args.sample, split)
        if args.origin != "all":
            records = [r for r in records if r["injected"] == (args.origin == "injected")]
        report = evaluate(records, match=args.match, use_known_names=not args.no_known_names)
        print(
            format_report(
                report,
                f"== {args.sample.name} split={split} origin={args.origin} texts={len(records)} match={args.match}",
            )
        )
        if args.errors and split == splits[0]:
            print("\n".join(sorted(report.errors)))
        print()

    if args.speed:
        PIIScrubber()  # build the name lexicon before timing
        regex_kinds = ALL_KINDS - {"person"}
        sets = [("sample texts", [r["text"] for r in load_sample(args.sample)])]
        entries = real_entries(args.real)
        if entries:
            sets.append((f"real Q+A entries from {args.real.name}/", entries))
        for name, texts in sets:
            mean_len = sum(map(len, texts)) / len(texts)
            print(
                f"== speed: {len(texts)} {name}, mean {mean_len:.0f} chars, one process, best of 3"
            )
            for label, kinds in (
                ("email, phone, url, id_number", regex_kinds),
                ("all kinds", ALL_KINDS),
            ):
                wall, cpu = benchmark(texts, kinds)
                print(
                    f"{label:30s} {wall:>9,.0f} texts/s wall clock, {cpu:>9,.0f} texts/s CPU time"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
