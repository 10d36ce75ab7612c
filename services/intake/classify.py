"""Keyword classification of a grievance's category and urgency (pure, no I/O but loading).

Upstream apps often send only free text ("小区保安不让电动车进，送不了件").  When the
category or urgency is absent, a configurable rule set (``rules.yaml``) picks one and records
why, so an assignee (and an auditor) can see the matched words on the grievance.

The method, in order:

1. **Normalise** the text: NFKC (full-width → half-width), lower case, curly quotes → ``'``,
   and traditional → simplified Chinese for common characters (workers on a traditional
   input method write 讓/進/區 for 让/进/区).
2. **Find cues.**  Chinese cues match anywhere; ``A~B`` matches A then B within a few
   characters of the same clause (不让~进 finds 不让外卖车进).  English cues match whole
   words; a word also matches its plural (-s/-es) and ``word*`` matches any ending
   (``salar*`` → salary, salaries).
3. **Longest cue wins a span.**  A cue lying inside a longer matched cue is dropped, whatever
   its category: 工伤保险 (social insurance) silences 保险, 不让~进 silences 进.  ``not`` cues
   only do this: "fire me" silences "fire", 火车 silences 火.
4. **Score** each category: ``strong`` cues 4, ``zh``/``en`` cues 2, ``weak`` cues 1, each
   distinct cue once.  The best total wins; ties go to the category earlier in ``priority``
   (specific before generic).  A best score under ``min_score`` is ``other``: one weak cue
   is not enough to route a grievance.
5. **Urgency**: the most severe level with a cue (critical → high → low); ``low`` (questions,
   suggestions, thanks) only when none of its ``unless`` cues (signs of a complaint) appear.

Everything is explainable: the reason names the winning cues, their weights and the runner-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from services.intake.model import TextModel, load_model
from services.intake.normalise import normalise
from shared.events import Category, Urgency

GIVEN = "given by source"
NO_MATCH = "no keyword matched"

WEIGHTS = {"strong": 4, "zh": 2, "en": 2, "weak": 1}
STEM_KEY = 3  # "word*" cues are indexed by their first three letters
GAP = 6  # characters allowed between the two halves of an ``A~B`` cue
_CLAUSE_BREAK = "，。！？；、,.!?;\n"
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def _stem(word: str) -> str:
    """Return ``word`` without a plural ending (cues and text are stemmed alike)."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class Text:
    """A message prepared once for every cue: normalised, plus its English words."""

    raw: str
    norm: str
    words: tuple[str, ...]  # stemmed English words
    spans: tuple[tuple[int, int], ...]  # each word's span in ``norm``

    @classmethod
    def of(cls, text: str) -> Text:
        return _prepare(text)

    @classmethod
    def _build(cls, text: str) -> Text:
        norm = normalise(text)
        found = list(_WORD.finditer(norm))
        return cls(
            text,
            norm,
            tuple(_stem(m.group()) for m in found),
            tuple(m.span() for m in found),
        )


@lru_cache(maxsize=256)  # classify() reads one text for category and again for urgency
def _prepare(text: str) -> Text:
    return Text._build(text)


@dataclass(frozen=True, slots=True)
class Keyword:
    """One cue: its text as written in the rules, its weight and how it matches."""

    text: str
    weight: int
    kind: str  # "plain" (substring), "gap" (A~B) or "words" (English whole words)
    parts: tuple[str, ...]

    @classmethod
    def parse(cls, text: str, weight: int = 2) -> Keyword:
        text = text.strip()
        if not text:
            raise ValueError("a keyword must not be empty")
        norm = normalise(text)
        if norm.isascii():
            words = tuple(
                w if w.endswith("*") else _stem(w) for w in norm.replace("-", " ").split()
            )
            if not all(re.fullmatch(r"[a-z0-9']+\*?", w) for w in words):
                raise ValueError(f"English keyword {text!r} must be plain words (word* for stems)")
            return cls(text, weight, "words", words)
        if "~" in norm:
            head, _, tail = norm.partition("~")
            if not head or not tail or "~" in tail:
                raise ValueError(f"keyword {text!r}: use one '~' between two non-empty parts")
            return cls(text, weight, "gap", (head, tail))
        return cls(text, weight, "plain", (norm,))

    def find(self, text: Text) -> tuple[int, int] | None:
        """Return the span of this cue's first occurrence in ``text``, or None."""
        if self.kind == "words":
            return next(self.spans_in(text, range(len(text.words))), None)
        # Only where the head occurs (str.find), not at every character of the text.
        head, norm = self.parts[0], text.norm
        at = norm.find(head)
        while at >= 0:
            span = next(self.spans_in(text, (at,)), None)
            if span is not None:
                return span
            at = norm.find(head, at + 1)
        return None

    def spans_in(self, text: Text, starts: Iterable[int]) -> Iterator[tuple[int, int]]:
        """Yield the spans of this cue starting at ``starts`` (characters, or words)."""
        if self.kind == "words":
            n = len(self.parts)
            for i in starts:
                if i + n <= len(text.words) and all(
                    _word_matches(text.words[i + j], p) for j, p in enumerate(self.parts)
                ):
                    yield text.spans[i][0], text.spans[i + n - 1][1]
            return
        head = self.parts[0]
        for i in starts:
            if not text.norm.startswith(head, i):
                continue
            if self.kind == "plain":
                yield i, i + len(head)
                continue
            tail = self.parts[1]
            window = text.norm[i + len(head) : i + len(head) + GAP + len(tail)]
            at = window.find(tail)
            if at >= 0 and not any(c in _CLAUSE_BREAK for c in window[:at]):
                yield i, i + len(head) + at + len(tail)


def _word_matches(word: str, part: str) -> bool:
    return word.startswith(part[:-1]) if part.endswith("*") else word == part


@dataclass(frozen=True, slots=True)
class Hit:
    """One matched cue: the label it votes for and where it matched."""

    label: str
    keyword: Keyword
    start: int
    end: int
    negative: bool = False

    def inside(self, other: Hit) -> bool:
        """Return whether this hit lies within ``other``, which is strictly longer."""
        return (
            other.start <= self.start
            and self.end <= other.end
            and other.end - other.start > self.end - self.start
        )


@dataclass(frozen=True, slots=True)
class Rule:
    """The cues that vote for one label (a category or an urgency)."""

    label: str
    keywords: tuple[Keyword, ...]
    negatives: tuple[Keyword, ...] = ()
    unless: tuple[Keyword, ...] = ()

    def matches(self, text: str) -> list[Keyword]:
        """Return the cues found in ``text`` (before longest-match resolution)."""
        prepared = Text.of(text)
        return [k for k in self.keywords if k.find(prepared) is not None]

    def blocked(self, text: Text) -> Keyword | None:
        """Return the first ``unless`` cue present in ``text`` (the rule then does not apply)."""
        return next((k for k in self.unless if k.find(text) is not None), None)


class Matcher:
    """Every cue of some rules found in a text, indexed so a text is read once.

    Chinese cues are indexed by their first character and English cues by their first word,
    so a message costs one pass over its characters and words, not one search per cue.
    """

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.by_char: dict[str, list[tuple[str, Keyword, bool]]] = {}  # by first 2 chars
        self.by_word: dict[str, list[tuple[str, Keyword, bool]]] = {}
        self.by_stem: dict[str, list[tuple[str, Keyword, bool]]] = {}  # "word*": by 3 letters
        for rule in rules:
            cues = [(k, False) for k in rule.keywords] + [(k, True) for k in rule.negatives]
            for keyword, negative in cues:
                entry = (rule.label, keyword, negative)
                first = keyword.parts[0]
                if keyword.kind != "words":
                    self.by_char.setdefault(first[:2], []).append(entry)
                elif first.endswith("*"):
                    self.by_stem.setdefault(first[:-1][:STEM_KEY], []).append(entry)
                else:
                    self.by_word.setdefault(first, []).append(entry)
        # The characters some indexed cue begins with (a text position is looked up only then).
        self.starts = frozenset(key[0] for key in self.by_char)

    def hits(self, text: Text) -> list[Hit]:
        """Return every occurrence of every cue (and ``not`` cue) in ``text``."""
        found = []
        norm, by_char, starts = text.norm, self.by_char, self.starts
        last = len(norm) - 1
        for i, char in enumerate(norm):
            if char not in starts:  # most characters begin no cue: skip two lookups
                continue
            one = by_char.get(char, ())
            two = by_char.get(norm[i : i + 2], ()) if i < last else ()
            for entries in (one, two):
                for label, keyword, negative in entries:
                    if keyword.kind == "plain":
                        head = keyword.parts[0]
                        if norm.startswith(head, i):
                            found.append(Hit(label, keyword, i, i + len(head), negative))
                        continue
                    found.extend(
                        Hit(label, keyword, start, end, negative)
                        for start, end in keyword.spans_in(text, (i,))
                    )
        for i, word in enumerate(text.words):
            candidates = list(self.by_word.get(word, ()))
            for key in {word[:n] for n in range(1, STEM_KEY + 1)}:
                candidates += [
                    e for e in self.by_stem.get(key, ()) if _word_matches(word, e[1].parts[0])
                ]
            for label, keyword, negative in candidates:
                found.extend(
                    Hit(label, keyword, start, end, negative)
                    for start, end in keyword.spans_in(text, (i,))
                )
        return found


def resolve(hits: Sequence[Hit]) -> list[Hit]:
    """Return the positive hits not lying inside a longer hit (of any label, or a ``not``)."""
    return [h for h in hits if not h.negative and not any(h.inside(o) for o in hits)]


@dataclass(frozen=True, slots=True)
class Match:
    """The winning label, its score and the cues that won it."""

    label: str
    score: int
    keywords: tuple[str, ...]
    runner_up: tuple[str, int] | None = None

    def reason(self) -> str:
        words = ", ".join(f"'{k}'" for k in self.keywords)
        why = f"keyword {words} → {self.label}"
        if self.score:
            why += f" (score {self.score}"
            if self.runner_up:
                why += f"; next {self.runner_up[0]} {self.runner_up[1]}"
            why += ")"
        return why


def score(hits: Iterable[Hit]) -> dict[str, dict[str, Hit]]:
    """Return, per label, one hit for each distinct matched cue (each cue counts once)."""
    by_label: dict[str, dict[str, Hit]] = {}
    for hit in hits:
        by_label.setdefault(hit.label, {}).setdefault(hit.keyword.text, hit)
    return by_label


def _shown(hit: Hit, text: Text) -> str:
    """Return a cue as written in the rules, plus the words it matched when they differ."""
    matched = text.norm[hit.start : hit.end]
    cue = hit.keyword.text
    return cue if matched == normalise(cue) else f"{cue}「{matched}」"


def best_match(
    rules: Sequence[Rule],
    text: str,
    *,
    priority: Sequence[str] = (),
    min_score: int = 1,
    matcher: Matcher | None = None,
) -> Match | None:
    """Return the highest-scoring label for ``text``; ties go to the earlier in ``priority``."""
    prepared = Text.of(text)
    found = resolve((matcher or Matcher(rules)).hits(prepared))
    order: dict[str, int] = {}
    for label in [*priority, *(r.label for r in rules)]:
        order.setdefault(label, len(order))
    ranked = sorted(
        (
            (sum(h.keyword.weight for h in cues.values()), label, cues)
            for label, cues in score(found).items()
        ),
        key=lambda t: (-t[0], order.get(t[1], len(order))),
    )
    if not ranked or ranked[0][0] < min_score:
        return None
    total, label, cues = ranked[0]
    shown = sorted(cues.values(), key=lambda h: (-h.keyword.weight, h.start))
    return Match(
        label,
        total,
        tuple(_shown(h, prepared) for h in shown[:4]),
        (ranked[1][1], ranked[1][0]) if len(ranked) > 1 else None,
    )


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """The rules' category and urgency for a text, and their signals for the model.

    ``signals`` are model features: ``r:<category>`` when a category scored at least
    ``min_score``, ``R:<category>`` when it had a strong cue's worth, ``u:<urgency>``; the
    model learns how far to trust each.  ``harm``: a sign of loss or harm (no ``low``).
    """

    category: Category
    category_reason: str
    urgency: Urgency
    urgency_reason: str
    signals: frozenset[str]
    harm: bool
    decisive: bool = False  # a strong cue's worth for one category and none for any other


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The category rules and the urgency rules (critical → high → low)."""

    categories: tuple[Rule, ...]
    urgency: tuple[Rule, ...]
    priority: tuple[str, ...] = ()
    min_score: int = 2
    review_below: float = 0.4  # a model probability under this: rules decide, humans review
    model: TextModel | None = field(default=None, compare=False, repr=False)
    # The model's probability of normal or low at which it overrules the rules' ``high``.
    overrule_high: float = 0.75
    _categories: Matcher = field(init=False, repr=False, compare=False)
    _urgency: Matcher = field(init=False, repr=False, compare=False)
    _harm: Matcher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_categories", Matcher(self.categories))
        object.__setattr__(self, "_urgency", Matcher(self.urgency))
        low = [r for r in self.urgency if r.label == Urgency.LOW.value]
        object.__setattr__(self, "_harm", Matcher(Rule(r.label, r.unless) for r in low))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RuleSet:
        """Return a rule set from the YAML shape; raise ``ValueError`` naming a bad label."""
        categories = tuple(
            _rule(name, spec, Category, "category")
            for name, spec in (data.get("categories") or {}).items()
        )
        urgency = tuple(
            _rule(name, spec, Urgency, "urgency")
            for name, spec in (data.get("urgency") or {}).items()
        )
        priority = tuple(_label(str(p), Category, "category") for p in data.get("priority") or [])
        settings = data.get("settings") or {}
        min_score = int(settings.get("min_score", 2))
        review_below = float(settings.get("review_below", 0.4))
        overrule_high = float(settings.get("overrule_high", 0.75))
        return cls(
            categories, urgency, priority, min_score, review_below, overrule_high=overrule_high
        )

    def with_model(self, model: TextModel | None) -> RuleSet:
        """Return these rules with ``model`` beside them (None: the rules alone)."""
        return replace(self, model=model)

    def verdict(self, text: str) -> RuleVerdict:
        """Return everything the rules say about ``text``, each rule set read once."""
        match = best_match(self.categories, text, priority=self.priority, matcher=self._categories)
        category, category_reason = self._category(match)
        urgency, urgency_reason = self.urgency_of(text)
        signals = {f"u:{urgency.value}"}
        if match is not None and match.score >= self.min_score:
            signals.add(f"r:{match.label}")
            if match.score >= WEIGHTS["strong"]:
                signals.add(f"R:{match.label}")
        return RuleVerdict(
            category,
            category_reason,
            urgency,
            urgency_reason,
            frozenset(signals),
            self.describes_harm(text),
            match is not None and match.score >= WEIGHTS["strong"] and match.runner_up is None,
        )

    def category(self, text: str) -> tuple[Category, str]:
        """Return the category for ``text`` and why it was chosen."""
        return self._category(
            best_match(self.categories, text, priority=self.priority, matcher=self._categories)
        )

    def _category(self, match: Match | None) -> tuple[Category, str]:
        if match is None:
            return Category.OTHER, NO_MATCH
        if match.score < self.min_score:
            return Category.OTHER, (
                f"only weak keyword {', '.join(repr(k) for k in match.keywords)} "
                f"(score {match.score} < {self.min_score}) → other"
            )
        return Category(match.label), match.reason()

    def describes_harm(self, text: str) -> bool:
        """Return whether ``text`` has a sign of loss or harm (a ``low`` rule's ``unless``)."""
        return bool(self._harm.hits(Text.of(text)))

    def urgency_of(self, text: str) -> tuple[Urgency, str]:
        """Return the urgency for ``text``: the most severe level whose cues appear."""
        prepared = Text.of(text)
        found = resolve(self._urgency.hits(prepared))
        for level in (Urgency.CRITICAL, Urgency.HIGH, Urgency.LOW):
            for rule in self.urgency:
                if rule.label != level.value:
                    continue
                words = [h.keyword.text for h in found if h.label == level.value]
                if not words:
                    continue
                if (blocker := rule.blocked(prepared)) is not None:
                    return Urgency.NORMAL, (
                        f"keyword '{words[0]}' → {level.value}, but '{blocker.text}' → normal"
                    )
                return level, Match(level.value, 0, (words[0],)).reason()
        return Urgency.NORMAL, f"{NO_MATCH} → normal"


def _label(name: str, enum: Any, kind: str) -> str:
    try:
        return str(enum(name).value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise ValueError(f"unknown {kind} {name!r} in rules; allowed: {allowed}") from None


_KEYS = frozenset({*WEIGHTS, "not", "unless"})


def _rule(name: str, spec: Mapping[str, Iterable[str]] | None, enum: Any, kind: str) -> Rule:
    label = _label(name, enum, kind)
    spec = spec or {}
    if unknown := set(spec) - _KEYS:
        raise ValueError(
            f"{kind} {name!r}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}"
        )

    def parse(key: str, weight: int = 0) -> tuple[Keyword, ...]:
        try:
            return tuple(Keyword.parse(str(w), weight) for w in spec.get(key) or [])
        except ValueError as error:
            raise ValueError(f"{kind} {name!r}, {key}: {error}") from None

    keywords = tuple(k for tier, weight in WEIGHTS.items() for k in parse(tier, weight))
    return Rule(label, keywords, parse("not"), parse("unless"))


def load_rules(path: Path | None = None, *, model: bool = True) -> RuleSet:
    """Return the rule set in ``path`` (or intake's ``rules.yaml``) with the shipped model.

    The model was trained with the shipped rules' signals as features (``RuleSet.signals``):
    a rule file of one's own goes with ``model=False`` unless the model is retrained on it.
    """
    if path is None:
        text = (resources.files("services.intake") / "rules.yaml").read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    rules = RuleSet.from_mapping(yaml.safe_load(text) or {})
    return rules.with_model(load_model() if model else None)
