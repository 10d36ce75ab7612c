"""Train intake's category and urgency model offline (``make train``; needs the ``train`` extra).

Reads the labelled corpus in ``corpus/classify/`` (one file per category, ``urgency | text``
lines), fits two multinomial logistic regressions over the features of
``services.intake.model.features`` (character 1–3-grams and English words, binary, idf-weighted,
L2-normalised) and writes their weights to ``services/intake/classifier.npz``, which intake
scores by hand at run time, together with the character → pinyin table the features read
(``corpus/classify/pinyin.txt``; ``--pinyin-table`` rewrites it, which needs ``pypinyin``).
With ``--folds N`` it first prints N-fold cross-validated figures
of the whole decision (rules and a model trained without the held-out fold) on the corpus —
the only figures to tune the corpus, the rules or the settings on; the frozen sets B and C are
measured by ``zhitong classify eval`` and never used here.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from services.intake.classify import load_rules
from services.intake.model import WEIGHTS_FILE, TextModel, features
from shared.events import Category, Urgency
from zhitong.classify_eval import CORPUS, Example, Report, corpus_as_labelled, evaluate, read_corpus
from zhitong.classify_eval import render as render_report

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "services" / "intake" / WEIGHTS_FILE
PINYIN = CORPUS / "pinyin.txt"
MIN_DF = 2  # a feature seen in one sentence only is noise, and would bloat the file
C_CATEGORY = 20.0
C_URGENCY = 20.0
# Urgency classes weighted by their rarity: critical and high are the fewest sentences and the
# costliest to miss (cross-validated critical recall of the model alone: 89% → 93%).
URGENCY_CLASS_WEIGHT = "balanced"
SEED = 16


def read_pinyin(path: Path = PINYIN) -> dict[str, str]:
    """Return the character → toneless pinyin table (lines ``syllable<TAB>characters``)."""
    table = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            sound, _, chars = line.partition("\t")
            table.update(dict.fromkeys(chars, sound))
    return table


def write_pinyin_table(path: Path = PINYIN) -> int:
    """Write the pinyin of every GBK character (``pypinyin``'s most common reading)."""
    from pypinyin import Style, lazy_pinyin  # noqa: PLC0415  only this maintenance step needs it

    groups: dict[str, list[str]] = {}
    for point in range(0x4E00, 0x9FA6):
        char = chr(point)
        try:
            char.encode("gbk")
        except UnicodeEncodeError:
            continue
        sound = lazy_pinyin(char, style=Style.NORMAL, errors="ignore")
        if sound and sound[0].isascii() and sound[0].isalpha():
            groups.setdefault(sound[0], []).append(char)
    lines = [
        "# Toneless pinyin of the GBK characters, for the classifier's homophone features",
        "# (written by `python -m zhitong.classify_train --pinyin-table`; pypinyin's readings).",
        *(f"{sound}\t{''.join(chars)}" for sound, chars in sorted(groups.items())),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sum(len(chars) for chars in groups.values())


def _analyzer(pinyin: dict[str, str]) -> Callable[[str], set[str]]:
    """Return the features the shipped model reads: n-grams, words, pinyin, rules' signals."""
    rules = load_rules(model=False)
    return lambda text: features(text, pinyin) | rules.verdict(text).signals


def fit(examples: Sequence[Example]) -> dict[str, Any]:
    """Return the arrays of both models fitted on ``examples`` (the ``.npz`` layout)."""
    pinyin = read_pinyin()
    vectoriser = CountVectorizer(analyzer=_analyzer(pinyin), binary=True, min_df=MIN_DF)
    tfidf = TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True)
    x = tfidf.fit_transform(vectoriser.fit_transform([e.text for e in examples]))
    vocabulary = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.get)
    arrays: dict[str, Any] = {
        "vocabulary": np.frombuffer("\n".join(vocabulary).encode("utf-8"), dtype=np.uint8),
        "idf": tfidf.idf_.astype(np.float32),
        "pinyin_chars": np.frombuffer("".join(pinyin).encode("utf-8"), dtype=np.uint8),
        "pinyin_sounds": np.frombuffer("\n".join(pinyin.values()).encode("ascii"), dtype=np.uint8),
    }
    for name, c, weight, labels in (
        ("category", C_CATEGORY, None, [e.category for e in examples]),
        ("urgency", C_URGENCY, URGENCY_CLASS_WEIGHT, [e.urgency for e in examples]),
    ):
        model = LogisticRegression(C=c, max_iter=5000, class_weight=weight).fit(x, labels)
        arrays[f"{name}_labels"] = np.array([str(label) for label in model.classes_])
        arrays[f"{name}_weights"] = model.coef_.T.astype(np.float16)
        arrays[f"{name}_bias"] = model.intercept_.astype(np.float32)
    return arrays


def _model(arrays: dict[str, Any]) -> TextModel:
    """Return ``arrays`` as intake would load them (through the same ``.npz`` bytes)."""
    buffer = BytesIO()
    np.savez(buffer, **arrays)
    return TextModel.from_bytes(buffer.getvalue())


def cross_validate(examples: Sequence[Example], folds: int) -> Report:
    """Return the out-of-fold report of the whole decision on the corpus (stratified)."""
    rules = load_rules(model=False)
    split = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    strata = [f"{e.category}/{e.urgency in ('critical', 'high')}" for e in examples]
    categories: Counter[tuple[Category, Category]] = Counter()
    urgencies: Counter[tuple[Urgency, Urgency]] = Counter()
    flagged = 0
    for learn, held in split.split(examples, strata):
        fold = rules.with_model(_model(fit([examples[i] for i in learn])))
        report = evaluate(fold, "fold", corpus_as_labelled(examples[i] for i in held))
        categories.update(report.categories)
        urgencies.update(report.urgencies)
        flagged += report.flagged
    name = f"{folds}-fold cross-validated on the corpus (rules + model)"
    return Report(name, len(examples), categories, urgencies, flagged)


def train(examples: Sequence[Example], output: Path = OUTPUT) -> int:
    """Fit both models on ``examples``, write their weights to ``output``; return its size."""
    np.savez_compressed(output, **fit(examples))
    return output.stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the shipped weights; print cross-validated figures first if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: skip)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--pinyin-table", action="store_true", help=f"first rewrite {PINYIN.name} (pypinyin)"
    )
    args = parser.parse_args(argv)
    if args.pinyin_table:
        print(f"wrote {PINYIN.relative_to(ROOT)}: {write_pinyin_table()} characters")
    examples = read_corpus()
    print(f"corpus: {len(examples)} sentences in {CORPUS.relative_to(ROOT)}")
    if args.folds:
        print(render_report(cross_validate(examples, args.folds)))
    size = train(examples, args.output)
    print(f"wrote {args.output} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
