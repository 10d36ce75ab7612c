"""The learned model beside the rules (issue 16): corpus, features, decision and review flag."""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher
from typing import Any, cast

import pytest

from services.intake.classify import RuleSet, load_rules
from services.intake.decide import classify, decide, settle_urgency
from services.intake.model import Prediction, features, load_model
from services.intake.submission import Intake
from shared.events import Category, Channel, GrievanceIn, Urgency
from tests.unit.classify_data import EVAL_B, EVAL_C
from zhitong.classify_eval import CORPUS, read_corpus

NEAR_COPY = 0.65  # difflib ratio at which a corpus line counts as a copy of a frozen sentence


@pytest.fixture(name="rules", scope="module")
def fixture_rules() -> RuleSet:
    """Return the shipped rules with the shipped model."""
    return load_rules()


def test_corpus_is_large_labelled_and_covers_every_category() -> None:
    """The corpus has ≥ 1,500 distinct sentences, every category ≥ 60, a fifth English."""
    examples = read_corpus()
    categories = Counter(e.category for e in examples)
    urgencies = Counter(e.urgency for e in examples)
    assert len(examples) >= 1500
    assert len({e.text for e in examples}) == len(examples)
    assert set(categories) == {c.value for c in Category}
    assert min(categories.values()) >= 60
    assert sum(e.text.isascii() for e in examples) >= len(examples) / 5
    assert urgencies["critical"] + urgencies["high"] >= len(examples) / 4


def test_corpus_holds_no_near_copy_of_a_frozen_sentence() -> None:
    """No training sentence is a near-copy of a set B or set C sentence."""
    frozen = [text for text, _, _ in EVAL_B + EVAL_C]
    copies = []
    for example in read_corpus():
        matcher = SequenceMatcher(None, example.text)
        for text in frozen:
            matcher.set_seq1(text)
            if (
                matcher.real_quick_ratio() >= NEAR_COPY
                and matcher.quick_ratio() >= NEAR_COPY
                and matcher.ratio() >= NEAR_COPY
            ):
                copies.append((example.text, text))
    assert copies == []


def test_a_malformed_corpus_line_is_refused_with_its_place(tmp_path: Any) -> None:
    """A line without 'urgency | text' names its file and line number."""
    (tmp_path / "wages.tsv").write_text("high | 工资没发\nurgent 工资没发\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"wages.tsv:2"):
        read_corpus(tmp_path)
    assert CORPUS.is_dir()


def test_features_are_character_ngrams_and_english_words() -> None:
    """'欠薪 Pay' gives 1–3-grams of the normalised text and the word 'pay'."""
    found = features("欠薪 Pay")
    assert {"欠", "欠薪", "欠薪 ", "w:pay", "pay", "pa"} <= found
    assert " " not in found


def test_shipped_weights_are_compact_and_cover_both_models() -> None:
    """The shipped model knows every category and urgency and loads from the package."""
    model = load_model()
    assert set(model.categories) == {c.value for c in Category}
    assert set(model.urgencies) == {u.value for u in Urgency}
    assert model.weights.shape == (len(model.vocabulary), len(Category) + len(Urgency))


def test_a_clear_grievance_is_confident_and_not_flagged(rules: RuleSet) -> None:
    """An unambiguous wage complaint is wages with a confidence over the threshold."""
    decision = decide(rules, "老板拖欠我们三个月工资了，电话也不接")
    assert decision.category is Category.WAGES
    assert decision.category_confidence is not None
    assert decision.category_confidence >= rules.review_below
    assert not decision.needs_review


def test_below_the_threshold_a_grievance_is_flagged_for_review(rules: RuleSet) -> None:
    """The same text is flagged once the threshold is above the model's confidence."""
    text = "老板拖欠我们三个月工资了，电话也不接"
    strict = RuleSet(
        rules.categories, rules.urgency, rules.priority, rules.min_score, 1.01, rules.model
    )
    decision = decide(strict, text)
    assert decision.needs_review
    assert decision.category is Category.WAGES  # routed as classified all the same
    assert decision.category_confidence is not None
    assert decision.category_confidence < strict.review_below


def test_a_decisive_rule_overrides_the_model(rules: RuleSet) -> None:
    """A strong, unopposed rule match (水管 + 爆裂: public facility) wins over the model."""
    decision = decide(rules, "建筑工地旁边的水管爆裂了")
    assert decision.category is Category.PUBLIC_FACILITY
    assert "unopposed" in decision.category_reason


@pytest.mark.parametrize(
    "text",
    [
        "顺便说一下，楼下好像有股煤气味",
        "请问一下，宿舍楼道冒烟了怎么办",
        "Just asking, is it normal that the charging cabinet is sparking?",
    ],
)
def test_a_danger_cue_is_critical_whatever_the_model_says(rules: RuleSet, text: str) -> None:
    """Gas, smoke or sparks make a grievance critical even worded as a question."""
    assert decide(rules, text).urgency is Urgency.CRITICAL


def test_low_stands_only_when_no_loss_or_harm_is_described(rules: RuleSet) -> None:
    """A question is low; a question about money taken is not."""
    assert decide(rules, "请问驿站周末几点开门").urgency is Urgency.LOW
    assert decide(rules, "请问站长扣了我三百块钱该找谁").urgency is not Urgency.LOW


def test_a_given_category_needs_no_review(rules: RuleSet) -> None:
    """What the source gave is kept and never flagged, whatever the model thinks."""
    category, _, why, needs_review = classify(
        rules, title=None, description="嗯", category=Category.HEALTH
    )
    assert category is Category.HEALTH
    assert why.category_confidence is None
    assert not needs_review


def test_the_accepted_grievance_carries_the_flag_and_the_confidence(rules: RuleSet) -> None:
    """Intake's normalised grievance holds needs_review and the classifier's confidence."""
    strict = RuleSet(
        rules.categories, rules.urgency, rules.priority, rules.min_score, 1.01, rules.model
    )
    intake = Intake(cast(Any, None), cast(Any, None), cast(Any, None), strict, cast(Any, None))
    body = GrievanceIn.model_validate(
        {"worker": {"id": "w-1"}, "description": "老板拖欠我们三个月工资了"}
    )
    grievance = intake.normalise(body, source="app", channel=Channel.HTTP)
    assert grievance.needs_review
    assert grievance.classification.category_confidence is not None
    assert grievance.model_dump(mode="json")["needs_review"] is True


def test_a_homophone_typo_keeps_the_words_pinyin() -> None:
    """分检 (a pinyin-keyboard typo) and 分拣 share the feature p:fen jian; the table ships."""
    table = load_model().pinyin
    assert len(table) >= 20_000
    typo, word = features("分检太慢", table), features("分拣太慢", table)
    assert "p:fen jian" in typo & word
    assert "p:fen jian" not in features("分拣太慢")  # no table, no pinyin


def _guess(**probabilities: float) -> Prediction:
    best = max(probabilities, key=probabilities.__getitem__)
    labels, values = tuple(probabilities), tuple(probabilities.values())
    return Prediction(best, probabilities[best], labels, values)


@pytest.mark.parametrize(
    ("guess", "settled"),
    [
        ({"normal": 0.85, "low": 0.05, "high": 0.08, "critical": 0.02}, Urgency.NORMAL),
        ({"normal": 0.6, "low": 0.05, "high": 0.3, "critical": 0.05}, Urgency.HIGH),
    ],
    ids=["model-sure-overrules", "model-unsure-high-stands"],
)
def test_the_rules_high_stands_unless_the_model_is_sure_of_calm(
    guess: dict[str, float], settled: Urgency
) -> None:
    """A rules' high yields only to a model ≥ 75% sure of normal or low."""
    assert settle_urgency(_guess(**guess), Urgency.HIGH, harm=False, overrule_high=0.75) is settled


def test_the_rules_critical_stands_however_sure_the_model_is() -> None:
    """Safety first: a danger cue's critical is never overruled."""
    guess = _guess(normal=0.99, low=0.0, high=0.01, critical=0.0)
    assert settle_urgency(guess, Urgency.CRITICAL, harm=False, overrule_high=0.75) is (
        Urgency.CRITICAL
    )
