"""A linear text model over character n-grams, scored by hand (pure numpy, no scikit-learn).

``make train`` fits two multinomial logistic regressions offline (category and urgency, see
``zhitong/classify_train.py``) on the corpus in ``corpus/classify/`` and writes their weights
to ``classifier.npz`` beside this module.  Intake loads the file once and scores a text as
scikit-learn would: the same features (:func:`features`), binary counts weighted by idf and
L2-normalised, then ``x @ W + b`` and a softmax.  Scoring by hand costs tens of microseconds;
scikit-learn's own ``predict`` costs over a millisecond per call.

Workers type on pinyin keyboards, so their typos are homophones (分检 for 分拣, 工姿 for
工资): beside the characters, the features hold the toneless pinyin of each pair of adjacent
Chinese characters, which a homophone typo leaves unchanged.  The character → pinyin table
ships inside the weights file (from ``corpus/classify/pinyin.txt``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from io import BytesIO
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from services.intake.normalise import normalise

WEIGHTS_FILE = "classifier.npz"
NGRAMS = (1, 2, 3)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")

Vector = npt.NDArray[np.float32]


def features(text: str, pinyin: Mapping[str, str] | None = None) -> set[str]:
    """Return the distinct features of ``text``: character 1–3-grams, English words and, given
    a character → pinyin table, the pinyin of adjacent character pairs (``p:fen jian``)."""
    return _features(normalise(text), pinyin or {})


def _features(norm: str, pinyin: Mapping[str, str]) -> set[str]:
    norm = _SPACES.sub(" ", norm).strip()
    size = len(norm)
    grams = {norm[i : i + n] for n in NGRAMS for i in range(size - n + 1)}
    grams.discard(" ")
    grams.update("w:" + w for w in _WORD.findall(norm))
    if pinyin:
        sounds = [pinyin.get(char) for char in norm]
        grams.update(
            f"p:{first} {second}" for first, second in pairwise(sounds) if first and second
        )
    return grams


@dataclass(frozen=True, slots=True)
class Prediction:
    """A model's best label, its probability and every label's probability."""

    label: str
    confidence: float
    labels: tuple[str, ...]
    probabilities: tuple[float, ...]

    def probability(self, label: str) -> float:
        """Return the probability of ``label`` (0.0 for a label the model does not know)."""
        return self.probabilities[self.labels.index(label)] if label in self.labels else 0.0


@dataclass(frozen=True, slots=True)
class TextModel:
    """The shipped category and urgency models over one feature vocabulary.

    Both models' weights sit side by side in one matrix (a row per feature), so a text costs
    one gather and one product for the two.
    """

    vocabulary: dict[str, int]
    idf: Vector  # (features,)
    weights: Vector  # (features, categories + urgencies)
    bias: Vector  # (categories + urgencies,)
    categories: tuple[str, ...]
    urgencies: tuple[str, ...]
    pinyin: dict[str, str] = field(default_factory=dict)  # character → toneless pinyin

    def predict(
        self, text: str, extra: Iterable[str] = (), *, normalised: bool = False
    ) -> tuple[Prediction, Prediction]:
        """Return the category and urgency predictions for ``text`` (plus ``extra`` features)."""
        vocabulary = self.vocabulary
        grams = _features(text if normalised else normalise(text), self.pinyin)
        grams.update(extra)
        rows = [row for row in map(vocabulary.get, grams) if row is not None]
        if rows:
            weight = self.idf[rows]
            logits = ((weight @ self.weights[rows]) / np.sqrt(weight @ weight) + self.bias).tolist()
        else:
            logits = self.bias.tolist()
        split = len(self.categories)
        return _softmax(self.categories, logits[:split]), _softmax(self.urgencies, logits[split:])

    @classmethod
    def from_bytes(cls, data: bytes) -> TextModel:
        """Return the models stored by ``zhitong/classify_train.py`` (an ``.npz`` archive)."""
        with np.load(BytesIO(data), allow_pickle=False) as npz:
            vocabulary = npz["vocabulary"].tobytes().decode("utf-8").split("\n")
            pinyin = {}
            if "pinyin_chars" in npz:
                chars = npz["pinyin_chars"].tobytes().decode("utf-8")
                sounds = npz["pinyin_sounds"].tobytes().decode("ascii").split("\n")
                pinyin = dict(zip(chars, sounds, strict=True))
            return cls(
                {f: i for i, f in enumerate(vocabulary)},
                npz["idf"].astype(np.float32),
                np.ascontiguousarray(
                    np.hstack([npz["category_weights"], npz["urgency_weights"]]), np.float32
                ),
                np.concatenate([npz["category_bias"], npz["urgency_bias"]]).astype(np.float32),
                tuple(str(label) for label in npz["category_labels"]),
                tuple(str(label) for label in npz["urgency_labels"]),
                pinyin,
            )


def _softmax(labels: tuple[str, ...], logits: list[float]) -> Prediction:
    # A handful of labels: plain floats beat numpy's per-call overhead here.
    top = max(logits)
    exp = [math.exp(v - top) for v in logits]
    total = sum(exp)
    best = exp.index(1.0)
    return Prediction(labels[best], 1.0 / total, labels, tuple(e / total for e in exp))


@lru_cache(maxsize=4)
def load_model(path: Path | None = None) -> TextModel:
    """Return the model in ``path``, or the one shipped with intake (``classifier.npz``)."""
    if path is None:
        data = (resources.files("services.intake") / WEIGHTS_FILE).read_bytes()
    else:
        data = path.read_bytes()
    return TextModel.from_bytes(data)
