"""Decide a grievance's category and urgency from the rules and the model (issue 16).

The model (``model.py``, trained on ``corpus/classify/``) reads the text and the rules'
verdicts, and says how sure it is.  Then:

- **Category**: the rules' label when it is decisive (a strong cue's worth and no other
  category matched at all: a high-precision override); else the model's label when its
  probability reaches ``review_below``; otherwise the rules' label when a rule matched, else
  the model's.  The confidence is the model's probability of the label settled on; below the
  threshold the grievance is routed as decided *and* flagged ``needs_review`` for its
  assignee to check.
- **Urgency, safety first**: a danger cue (gas, fire, smoke, trapped, can't breathe, chest
  pain, bleeding, collapse, sparks, flooding) makes it ``critical`` whatever the model says; a
  time or hardship cue (明天, 今晚, 下礼拜, 月底, deadlines, months of arrears) raises it to at
  least ``high`` unless the model is sure (``overrule_high``) it is normal or low — such cues
  are many and worded loosely (半年 of waiting for a transfer is no arrears); ``low`` stands
  only when no loss or harm is described.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.classify import GIVEN, RuleSet, Text
from services.intake.model import Prediction
from shared.events import Category, Classification, Urgency

SEVERITY = {Urgency.LOW: 0, Urgency.NORMAL: 1, Urgency.HIGH: 2, Urgency.CRITICAL: 3}


@dataclass(frozen=True, slots=True)
class Decision:
    """Category and urgency of a text, why, and how sure the model was."""

    category: Category
    urgency: Urgency
    category_reason: str
    urgency_reason: str
    category_confidence: float | None = None  # None: rules alone (no model loaded)
    urgency_confidence: float | None = None
    needs_review: bool = False


def decide(rules: RuleSet, text: str) -> Decision:
    """Return the decision for ``text`` (rules alone when ``rules`` carries no model)."""
    verdict = rules.verdict(text)
    by_rules, rule_reason = verdict.category, verdict.category_reason
    urgency_by_rules, urgency_rule_reason = verdict.urgency, verdict.urgency_reason
    if rules.model is None:
        return Decision(by_rules, urgency_by_rules, rule_reason, urgency_rule_reason)
    category_guess, urgency_guess = rules.model.predict(
        Text.of(text).norm, extra=verdict.signals, normalised=True
    )
    sure = category_guess.confidence >= rules.review_below
    if verdict.decisive:
        category = by_rules
        category_reason = (
            f"{rule_reason}, unopposed; model {category_guess.label} "
            f"(p {category_guess.confidence:.2f})"
        )
    elif sure or (by_rules is Category.OTHER and rule_reason.startswith("no keyword")):
        category = Category(category_guess.label)
        # The rules' reason stays beside the model's: an auditor sees the words either way.
        category_reason = (
            f"model → {category.value} (p {category_guess.confidence:.2f}); rules: {rule_reason}"
        )
    else:
        category = by_rules
        category_reason = (
            f"{rule_reason}; model unsure "
            f"({category_guess.label} p {category_guess.confidence:.2f})"
        )
    confidence = category_guess.probability(category.value)
    urgency = settle_urgency(
        urgency_guess, urgency_by_rules, harm=verdict.harm, overrule_high=rules.overrule_high
    )
    model_says = f"model → {urgency_guess.label} (p {urgency_guess.confidence:.2f})"
    if urgency is Urgency(urgency_guess.label):
        urgency_reason = model_says
        if urgency_by_rules is Urgency.HIGH and SEVERITY[urgency] < SEVERITY[Urgency.HIGH]:
            urgency_reason += f", sure enough to overrule {urgency_rule_reason}"
    elif urgency is urgency_by_rules:
        urgency_reason = f"{urgency_rule_reason}; {model_says}"
    else:
        urgency_reason = f"{model_says}, but a loss or harm is described → {urgency.value}"
    return Decision(
        category,
        urgency,
        category_reason,
        urgency_reason,
        round(confidence, 3),
        round(urgency_guess.probability(urgency.value), 3),
        needs_review=confidence < rules.review_below,
    )


def settle_urgency(
    guess: Prediction, by_rules: Urgency, *, harm: bool, overrule_high: float
) -> Urgency:
    """Return the more severe of model and rules, safety first; low only without harm.

    The rules' ``critical`` always stands; their ``high`` stands unless the model gives normal
    and low together at least ``overrule_high``.
    """
    by_model = Urgency(guess.label)
    if SEVERITY[by_rules] > SEVERITY[by_model]:
        if by_rules is Urgency.CRITICAL:
            return by_rules
        calm = guess.probability(Urgency.NORMAL.value) + guess.probability(Urgency.LOW.value)
        if by_rules is Urgency.HIGH and calm < overrule_high:
            return by_rules
    if by_model is Urgency.LOW and harm:
        return Urgency.NORMAL
    return by_model


def classify(
    rules: RuleSet,
    *,
    title: str | None,
    description: str,
    category: Category | None = None,
    urgency: Urgency | None = None,
) -> tuple[Category, Urgency, Classification, bool]:
    """Return the category, urgency, reasons and whether a human should review them.

    What the source gave is kept (and needs no review); only the derived parts are decided.
    """
    decision = decide(rules, f"{title or ''}\n{description}")
    given_category, given_urgency = category is not None, urgency is not None
    why = Classification(
        category_reason=GIVEN if given_category else decision.category_reason,
        urgency_reason=GIVEN if given_urgency else decision.urgency_reason,
        category_confidence=None if given_category else decision.category_confidence,
        urgency_confidence=None if given_urgency else decision.urgency_confidence,
    )
    return (
        category or decision.category,
        urgency or decision.urgency,
        why,
        decision.needs_review and not given_category,
    )
