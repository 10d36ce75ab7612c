"""Measure intake's classifier honestly (``zhitong classify eval``).

Frozen sets B and C (``tests/unit/classify_data.py``) were written before the classifier ever
ran on them and are never tuned on: they are the measure.  The training data — the corpus in
``corpus/classify/`` (the model's) and set A (the rules') — is reported too, labelled as such:
a score on what was learnt from says little about new wording.
"""

from __future__ import annotations

import importlib
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import process_time

from services.intake.classify import RuleSet
from services.intake.decide import SEVERITY, decide
from shared.events import Category, Urgency

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "classify"

Labelled = Sequence[tuple[str, Category, Urgency]]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled sentence of the corpus."""

    text: str
    category: str
    urgency: str


def read_corpus(directory: Path = CORPUS) -> list[Example]:
    """Return every labelled line of the corpus; raise ``ValueError`` naming a bad line."""
    examples = []
    categories = {c.value for c in Category}
    urgencies = {u.value for u in Urgency}
    for path in sorted(directory.glob("*.tsv")):
        if path.stem not in categories:
            raise ValueError(f"{path.name}: not a category ({', '.join(sorted(categories))})")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            urgency, sep, text = (part.strip() for part in line.partition("|"))
            if not sep or urgency not in urgencies or not text:
                raise ValueError(f"{path.name}:{number}: expected 'urgency | text', got {line!r}")
            examples.append(Example(text, path.stem, urgency))
    return examples


def corpus_as_labelled(examples: Iterable[Example]) -> list[tuple[str, Category, Urgency]]:
    """Return corpus examples in the frozen sets' shape."""
    return [(e.text, Category(e.category), Urgency(e.urgency)) for e in examples]


@dataclass(frozen=True, slots=True)
class Report:
    """Measures of one labelled set: accuracies, recalls and confusions."""

    name: str
    size: int
    categories: Counter[tuple[Category, Category]] = field(default_factory=Counter)
    urgencies: Counter[tuple[Urgency, Urgency]] = field(default_factory=Counter)
    flagged: int = 0

    @property
    def category_accuracy(self) -> float:
        return sum(n for (want, got), n in self.categories.items() if want is got) / self.size

    @property
    def urgency_accuracy(self) -> float:
        return sum(n for (want, got), n in self.urgencies.items() if want is got) / self.size

    def recall(self, level: Urgency) -> float:
        """Return the share of ``level`` sentences classified ``level`` (1.0 when none)."""
        total = sum(n for (want, _), n in self.urgencies.items() if want is level)
        return self.urgencies[level, level] / total if total else 1.0

    def at_least(self, level: Urgency) -> float:
        """Return the share of ``level`` sentences given ``level`` or more severe."""
        total = sum(n for (want, _), n in self.urgencies.items() if want is level)
        hits = sum(
            n
            for (want, got), n in self.urgencies.items()
            if want is level and SEVERITY[got] >= SEVERITY[level]
        )
        return hits / total if total else 1.0


def evaluate(rules: RuleSet, name: str, data: Labelled) -> Report:
    """Return the report of ``rules`` (with its model, if any) on ``data``."""
    report = Report(name, len(data))
    flagged = 0
    for text, category, urgency in data:
        decision = decide(rules, text)
        report.categories[category, decision.category] += 1
        report.urgencies[urgency, decision.urgency] += 1
        flagged += decision.needs_review
    return Report(name, len(data), report.categories, report.urgencies, flagged)


def ms_per_text(rules: RuleSet, texts: Sequence[str], rounds: int = 5) -> float:
    """Return the mean over ``texts`` of each text's best CPU milliseconds in ``rounds``.

    CPU time, best of several: other processes on a shared machine inflate wall time.
    """
    best = [float("inf")] * len(texts)
    for _ in range(rounds):
        for i, text in enumerate(texts):
            start = process_time()
            decide(rules, text)
            best[i] = min(best[i], process_time() - start)
    return sum(best) / len(best) * 1000


def render(report: Report, *, confusion: bool = True) -> str:
    """Return ``report`` as text: headline figures, per-category and urgency tables."""
    lines = [
        f"{report.name}: {report.size} sentences",
        f"  category {report.category_accuracy:.1%}, urgency {report.urgency_accuracy:.1%}, "
        f"critical recall {report.recall(Urgency.CRITICAL):.1%}, "
        f"high recall {report.recall(Urgency.HIGH):.1%} "
        f"(high or above {report.at_least(Urgency.HIGH):.1%}), "
        f"flagged for review {report.flagged / report.size:.1%}",
    ]
    if not confusion:
        return "\n".join(lines)
    lines.append(f"  {'category':<17} {'recall':>9} {'precision':>10}  confused with")
    for category in Category:
        total = sum(n for (want, _), n in report.categories.items() if want is category)
        predicted = sum(n for (_, got), n in report.categories.items() if got is category)
        right = report.categories[category, category]
        wrong = ", ".join(
            f"{got.value}×{n}"
            for (want, got), n in report.categories.most_common()
            if want is category and got is not category
        )
        lines.append(
            f"  {category.value:<17} {right:>3}/{total:<5} {right:>3}/{predicted:<6}  {wrong}"
        )
    levels = list(Urgency)
    lines.append("  urgency (rows: labelled, columns: classified)")
    lines.append("  " + " " * 10 + "".join(f"{u.value:>10}" for u in levels))
    for want in levels:
        row = "".join(f"{report.urgencies[want, got]:>10}" for got in levels)
        lines.append(f"  {want.value:<10}{row}")
    return "\n".join(lines)


def frozen_sets() -> dict[str, Labelled]:
    """Return the frozen evaluation sets and set A (from the repository's tests)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    data = importlib.import_module("tests.unit.classify_data")
    return {"A": data.EVAL_A, "B": data.EVAL_B, "C": data.EVAL_C, "D": data.EVAL_D}


def run(rules: RuleSet, *, training: bool = True) -> str:
    """Return the full evaluation text: sets B, C and D, then the training sets, then speed."""
    sets = frozen_sets()
    parts = [
        render(evaluate(rules, "set B (frozen, never tuned on)", sets["B"])),
        render(evaluate(rules, "set C (frozen, never tuned on)", sets["C"])),
        render(evaluate(rules, "set D (frozen, never tuned on)", sets["D"])),
    ]
    if training:
        corpus = corpus_as_labelled(read_corpus())
        parts.append(
            render(
                evaluate(rules, "TRAINING corpus (the model learnt it)", corpus), confusion=False
            )
        )
        parts.append(
            render(
                evaluate(rules, "TRAINING set A (the rules were tuned on it)", sets["A"]),
                confusion=False,
            )
        )
    texts = [text for name in ("B", "C", "D") for text, _, _ in sets[name]]
    parts.append(f"speed: {ms_per_text(rules, texts):.3f} ms per text (category and urgency)")
    return "\n\n".join(parts)
