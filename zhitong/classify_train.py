"""Train intake's category and urgency model offline (``make train``; needs the ``train`` extra).

Reads the labelled corpus in ``corpus/classify/`` (one file per category, ``urgency | text``
lines), fits two multinomial logistic regressions over the features of
``services.intake.model.features`` (character 1–3-grams and English words, binary, idf-weighted,
L2-normalised) and writes their weights to ``services/intake/classifier.npz``, which intake
scores by hand at run time.  With ``--folds N`` it first prints N-fold cross-validated accuracy
on the corpus — the only figure to tune the corpus or the settings on; the frozen sets B and C
are measured by ``zhitong classify eval`` and never used here.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline

from services.intake.classify import load_rules
from services.intake.model import WEIGHTS_FILE, features
from zhitong.classify_eval import CORPUS, Example, read_corpus

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "services" / "intake" / WEIGHTS_FILE
MIN_DF = 2  # a feature seen in one sentence only is noise, and would bloat the file
C_CATEGORY = 20.0
C_URGENCY = 20.0
SEED = 16


def _analyzer() -> Callable[[str], set[str]]:
    """Return the features the shipped model reads: n-grams, words and the rules' signals."""
    rules = load_rules(model=False)
    return lambda text: features(text) | rules.verdict(text).signals


def _pipeline(c: float) -> Any:
    return make_pipeline(
        CountVectorizer(analyzer=_analyzer(), binary=True, min_df=MIN_DF),
        TfidfTransformer(norm="l2", use_idf=True, smooth_idf=True),
        LogisticRegression(C=c, max_iter=5000),
    )


def cross_validate(examples: Sequence[Example], folds: int) -> dict[str, float]:
    """Return out-of-fold accuracy of each model on the corpus (stratified by category)."""
    texts = [e.text for e in examples]
    split = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    result = {}
    for name, c, labels in (
        ("category", C_CATEGORY, [e.category for e in examples]),
        ("urgency", C_URGENCY, [e.urgency for e in examples]),
    ):
        predicted = cross_val_predict(_pipeline(c), texts, labels, cv=split)
        result[name] = float(np.mean(np.array(predicted) == np.array(labels)))
    return result


def train(examples: Sequence[Example], output: Path = OUTPUT) -> int:
    """Fit both models on ``examples``, write their weights to ``output``; return its size."""
    vectoriser, tfidf, _ = (step for _, step in _pipeline(C_CATEGORY).steps)
    x = tfidf.fit_transform(vectoriser.fit_transform([e.text for e in examples]))
    vocabulary = sorted(vectoriser.vocabulary_, key=vectoriser.vocabulary_.get)
    arrays: dict[str, Any] = {
        "vocabulary": np.frombuffer("\n".join(vocabulary).encode("utf-8"), dtype=np.uint8),
        "idf": tfidf.idf_.astype(np.float32),
    }
    for name, c, labels in (
        ("category", C_CATEGORY, [e.category for e in examples]),
        ("urgency", C_URGENCY, [e.urgency for e in examples]),
    ):
        model = LogisticRegression(C=c, max_iter=5000).fit(x, labels)
        arrays[f"{name}_labels"] = np.array([str(label) for label in model.classes_])
        arrays[f"{name}_weights"] = model.coef_.T.astype(np.float16)
        arrays[f"{name}_bias"] = model.intercept_.astype(np.float32)
    np.savez_compressed(output, **arrays)
    return output.stat().st_size


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the shipped weights; print cross-validated accuracy first if asked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: skip)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    examples = read_corpus()
    print(f"corpus: {len(examples)} sentences in {CORPUS.relative_to(ROOT)}")
    if args.folds:
        scores = cross_validate(examples, args.folds)
        print(
            f"{args.folds}-fold cross-validated on the corpus: "
            + ", ".join(f"{name} {value:.1%}" for name, value in scores.items())
        )
    size = train(examples, args.output)
    print(f"wrote {args.output} ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
