"""The claim checker's rules on answers written the way language models write (issue 24), one case each.

Every claim and evidence here is written for the test (not taken from the seed articles, which stay
for measurement); ``judge_pair`` judges a claim against its cited evidence as the checker does.
"""

from __future__ import annotations

from grounding.compare import fact_reasons
from grounding.facts import extract_dates, extract_facts, extract_names, extract_numbers, words
from grounding.pairs import judge_pair
from grounding.records import Reason
from text.normalize import fold


def _reasons(claim: str, evidence: str) -> tuple[Reason, ...]:
    return fact_reasons(extract_facts(claim), extract_facts(evidence), words(evidence))


def _codes(claim: str, evidence: str) -> list[str]:
    return [reason.code for reason in _reasons(claim, evidence)]


def test_fold_gives_one_spelling_for_quotes_accents_and_emoji() -> None:
    assert fold("Guaido\u0301’s “plan” 📈 rose") == "Guaidó's \"plan\"  rose"
    assert fold("ﬁve １２") == "five 12"
    assert fold("plain ascii 'quote'") == "plain ascii 'quote'"


def test_a_straight_apostrophe_in_a_verbatim_quote_is_the_quote() -> None:
    evidence = "The port’s new cranes doubled the terminal’s capacity, the operator said."
    judgement = judge_pair("The port's new cranes doubled the terminal's capacity, the operator said.", evidence, 0.0)
    assert (judgement.label, judgement.score, judgement.reasons) == ("supported", 1.0, ())


def test_possessives_are_the_names_they_belong_to() -> None:
    evidence = "The mayor of Valparaíso said Ortega’s ministers would visit the port on Monday."
    assert _codes("Valparaíso's mayor said Ortega's ministers would visit the port on Monday.", evidence) == []
    assert extract_names("The envoy said Ortega's ministers met Valparaíso’s mayor.") == frozenset(
        {("ortega",), ("valparaíso",)})


def test_a_capital_that_only_opens_a_sentence_is_no_name() -> None:
    evidence = "About 40 workers at the Talara refinery resumed output on Monday."
    assert _codes("Notably, about 40 workers at the Talara refinery resumed output on Monday.", evidence) == []
    assert _codes("Roughly 40 workers at the Talara refinery resumed output on Monday.", evidence) == []
    # A name stays a name where it is also written mid-sentence, runs on, or is an acronym.
    assert extract_names("Petroperu said so. Later Petroperu agreed.") == frozenset({("petroperu",)})
    assert extract_names("OPEC met.") == frozenset({("opec",)})
    assert extract_names("Talara Refinery reopened. Later Petroperu agreed.") == frozenset(
        {("refinery",), ("petroperu",)})
    assert extract_names("The Talara Refinery reopened.") == frozenset({("talara", "refinery")})


def test_negation_counts_only_in_the_part_of_the_evidence_the_claim_matches() -> None:
    evidence = ("The board did not approve the merger in March, but shareholders backed the new dividend "
                "policy at the annual meeting.")
    assert _codes("Shareholders backed the new dividend policy at the annual meeting.", evidence) == []
    reasons = _reasons("The board approved the merger in March.", evidence)
    assert [reason.code for reason in reasons] == ["negation_flip"]
    assert reasons[0].message == "the claim has 0 negation cue(s), the part of the evidence it matches 1"


def test_combining_marks_and_emoji_do_not_change_facts() -> None:
    evidence = "Exports to Perú rose 12% in 2023, said José Quispe."
    claim = "Exports to Peru\u0301 rose 12% 📈 in 2023, said Jose\u0301 Quispe."
    assert _codes(claim, evidence) == []
    assert judge_pair(claim, evidence, 0.0).label == "supported"


def test_months_are_whole_words() -> None:
    assert extract_dates("Markets in Marco's home town rallied for decades as Decembrists marched.")[0] == frozenset()
    assert extract_dates("Markets rallied on March 5 and in Sept. 2021.")[0] == frozenset(
        {"month:3", "day:3-5", "month:9", "year:2021"})


def test_date_reasons_read_as_dates() -> None:
    reasons = _reasons("Markets rallied on March 5.", "Markets rallied on 6 March.")
    assert [reason.message for reason in reasons] == ["the evidence does not give March 5 (it has March 6)"]


def test_two_numbers_swapped_within_one_sentence_are_a_mismatch() -> None:
    evidence = "Support for the pension plan fell from 60 to under 15 percent within a year."
    reasons = _reasons("Support for the pension plan fell from 15 to under 60 percent within a year.", evidence)
    assert [reason.code for reason in reasons] == ["number_mismatch"]
    assert reasons[0].message == "the claim swaps 15 and 60: the evidence says each where the claim puts the other"


def test_numbers_reordered_with_their_own_words_are_no_swap() -> None:
    evidence = "Quarterly profit at the miner rose 40% to $2.5bn, its best result since 2011."
    assert _codes("The miner's quarterly profit reached $2.5bn, up 40%, its best result since 2011.", evidence) == []


def test_ordinals_are_compared() -> None:
    evidence = "It was the central bank's fourth rate rise this year."
    reasons = _reasons("It was the central bank's third rate rise this year.", evidence)
    assert [reason.message for reason in reasons] == ["the evidence does not state 3rd (it has 4th)"]
    assert extract_numbers("She finished 2nd, her second podium.") == frozenset({"2nd"})
    # "first" as an adverb is no ordinal; after a determiner it is.
    assert extract_numbers("Run the migration first.") == frozenset()
    assert extract_numbers("It was the first podium.") == frozenset({"1st"})


def test_judge_pair_labels_follow_the_checker_verdicts() -> None:
    evidence = "The cooperative sold 3,000 tonnes of coffee to Hamburg roasters in 2022."
    assert judge_pair("The cooperative sold 4,000 tonnes of coffee to Hamburg roasters in 2022.", evidence,
                      0.95).label == "contradicted"
    assert judge_pair("Tourism in the Andes grew.", evidence, 0.1).label == "not_enough_info"


def test_the_claims_benchmark_counts_per_label_and_type() -> None:
    from bench.perf.claim_rules import accuracy_table

    rows = [("supported", "paraphrase", "supported"), ("supported", "possessive", "contradicted"),
            ("contradicted", "ordinal", "contradicted")]
    assert accuracy_table(rows) == {"all": (2, 3), "label:contradicted": (1, 1), "label:supported": (1, 2),
                                    "type:contradicted/ordinal": (1, 1), "type:supported/paraphrase": (1, 1),
                                    "type:supported/possessive": (0, 1)}
