"""Answer selection: verbatim cited sentences, or an abstention with a reason."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.analysis import content_terms, name_initials
from ingest.records import Sentence
from ranking import AnswerConfig, CandidateSentence
from ranking.answer import is_answer_like, numbers_in, select_answer, topic_shares
from text.words import normalize_initialisms

TEXT = ("Norway mediated the talks between the two sides. What happens next? "
        "The talks were held in Mexico City in August. Sanctions and Economic Leverage")


def weights(question: str) -> dict[str, float]:
    return dict.fromkeys(content_terms(question), 1.0)


def candidate(fragment: str, similarity: float, rank: int = 1) -> CandidateSentence:
    start = TEXT.index(fragment)
    sentence = Sentence(doc_id="d", start=start, end=start + len(fragment), text=fragment)
    return CandidateSentence(sentence=sentence, similarity=similarity,
                             terms=frozenset(content_terms(fragment)), passage_rank=rank)


def test_best_sentence_is_cited_verbatim() -> None:
    decision = select_answer(weights("Who mediated the talks?"), [
        candidate("Norway mediated the talks between the two sides.", 0.6),
        candidate("The talks were held in Mexico City in August.", 0.3),
    ], AnswerConfig(min_score=0.3))
    assert decision.answer is not None
    [citation] = decision.answer.citations
    assert TEXT[citation.start : citation.end] == citation.text == decision.answer.text
    assert citation.text.startswith("Norway")


def test_questions_and_headings_are_never_answers() -> None:
    assert not is_answer_like("What happens next?", 5)
    assert not is_answer_like("Sanctions and Economic Leverage", 5)
    assert not is_answer_like("### Topic discount (shipped on, 1.0)", 5)  # a Markdown heading
    assert is_answer_like("Norway mediated the talks between the two sides.", 5)


def test_abstains_below_threshold_with_a_reason() -> None:
    decision = select_answer(weights("What is the boiling point of water?"),
                             [candidate("The talks were held in Mexico City in August.", 0.05)],
                             AnswerConfig(min_score=0.35))
    assert decision.answer is None
    assert decision.abstention_reason and "threshold" in decision.abstention_reason


def test_abstains_when_there_is_nothing_to_answer_from() -> None:
    decision = select_answer({"x": 1.0}, [], AnswerConfig())
    assert decision.answer is None and decision.abstention_reason


def test_up_to_three_close_sentences_in_passage_order() -> None:
    decision = select_answer(weights("talks"), [
        candidate("The talks were held in Mexico City in August.", 0.50, rank=2),
        candidate("Norway mediated the talks between the two sides.", 0.52, rank=1),
    ], AnswerConfig(min_score=0.3, keep_ratio=0.9))
    assert decision.answer is not None
    assert [c.passage_rank for c in decision.answer.citations] == [1, 2]
    assert decision.answer.text == " ".join(c.text for c in decision.answer.citations)


def test_initialisms_match_acronyms() -> None:
    assert normalize_initialisms("the U.S. and U.N. said") == "the US and UN said"
    assert set(content_terms("What did the U.S. offer?")) == set(content_terms("US offers"))


def test_rare_question_terms_weigh_more() -> None:
    rare = candidate("Norway mediated the talks between the two sides.", 0.3)
    common = candidate("The talks were held in Mexico City in August.", 0.3)
    question = {"mediat": 5.0, "talk": 0.5}
    decision = select_answer(question, [common, rare], AnswerConfig(min_score=0.3, lexical_weight=0.3,
                                                                    keep_ratio=0.99))
    assert decision.answer is not None and decision.answer.citations[0].text.startswith("Norway")


def test_a_sentence_without_the_year_asked_about_cannot_answer() -> None:
    with_year = candidate("The talks were held in Mexico City in August.", 0.9)
    decision = select_answer(weights("Who won the 2024 election?"), [with_year], AnswerConfig(min_score=0.1),
                             required_numbers=numbers_in("Who won the 2024 election?"))
    assert decision.answer is None
    assert decision.abstention_reason is not None and "2024" in decision.abstention_reason
    assert numbers_in("In 2021, 77 percent of 28.5 million") == {"2021", "77", "28.5"}


def test_acronyms_survive_the_stop_word_list_but_pronouns_do_not() -> None:
    assert content_terms("What did the US offer?") == ["us", "offer"]
    assert content_terms("Who read the WHO report?") == ["read", "who", "report"]
    assert content_terms("Is IT to blame for it?") == ["it", "blame"]


def test_spelled_out_names_add_their_initials() -> None:
    assert name_initials("The United States and the European Union met the Bank of England") == [
        "us", "eu", "be"]
    assert name_initials("In Caracas, a single Name stays alone") == []
    assert "us" in content_terms("The United States signaled it may ease sanctions")


def test_questions_are_analysed_without_initials() -> None:
    assert content_terms("How has Donald Trump's policy been characterized?", initials=False) == [
        "donald", "trump", "polici", "character"]
    assert "dt" in content_terms("Donald Trump's policy")


def loose(text: str, similarity: float, rank: int, start: int) -> CandidateSentence:
    sentence = Sentence(doc_id="d", start=start, end=start + len(text), text=text)
    return CandidateSentence(sentence=sentence, similarity=similarity, terms=frozenset(content_terms(text)),
                             passage_rank=rank)


def test_a_sentence_of_the_asked_type_beats_a_restatement_when_the_type_weight_is_on() -> None:
    question = "How many people have left Venezuela?"
    restates = loose("Many people have left Venezuela in recent years.", 0.62, 1, 0)
    answers = loose("Six million Venezuelans are now abroad after the exodus.", 0.55, 2, 100)
    plain = select_answer({}, [restates, answers], AnswerConfig(max_sentences=1, min_score=0.1, type_weight=0.0),
                          question=question)
    typed = select_answer({}, [restates, answers], AnswerConfig(max_sentences=1, min_score=0.1, type_weight=0.2),
                          question=question)
    assert plain.answer is not None and plain.answer.citations[0].text == restates.sentence.text
    assert typed.answer is not None and typed.answer.citations[0].text == answers.sentence.text


def test_ranking_bonuses_never_lift_an_off_topic_question_over_the_threshold() -> None:
    weak = replace(loose("Maduro has the backing of the military and of Russia and China.", 0.2, 1, 0), agreement=0.9)
    config = AnswerConfig(min_score=0.35, agreement_weight=0.3)
    decision = select_answer({}, [weak], config, question="What is the boiling point of water?")
    assert decision.answer is None
    assert decision.best_score == pytest.approx(0.2)


def test_abstains_when_no_sentence_near_the_best_gives_the_asked_quantity() -> None:
    question = "How many political prisoners were released before the talks?"
    vague = loose("He has already released some key political prisoners as a show of good faith.", 0.7, 1, 0)
    far = loose("Talks in 2019 collapsed within weeks of their start.", 0.3, 2, 100)
    decision = select_answer({}, [vague, far], AnswerConfig(min_score=0.35, type_margin=0.3), question=question)
    assert decision.answer is None
    assert decision.abstention_reason and "a number or amount" in decision.abstention_reason
    # A close sentence that states a number answers; the rule can be switched off.
    counted = loose("Officials said 42 political prisoners were released on Friday.", 0.6, 2, 200)
    answered = select_answer({}, [vague, counted], AnswerConfig(min_score=0.35, type_margin=0.3), question=question)
    assert answered.answer is not None
    off = select_answer({}, [vague, far], AnswerConfig(min_score=0.35, type_margin=None), question=question)
    assert off.answer is not None


def test_the_type_rule_leaves_questions_without_an_answer_type_alone() -> None:
    vague = loose("He has already released some key political prisoners as a show of good faith.", 0.7, 1, 0)
    decision = select_answer({}, [vague], AnswerConfig(min_score=0.35, type_margin=0.3),
                             question="What did Maduro do as a show of good faith?")
    assert decision.answer is not None


def test_a_sentence_repeating_the_articles_topic_loses_to_one_with_the_questions_specific_words() -> None:
    question = "Where did Robson and Mourinho work together?"
    terms = {"robson": 6.0, "mourinho": 5.0, "work": 2.0, "togeth": 4.0}
    lede = loose("Robson has offered Chelsea boss Mourinho some advice on coping under pressure.", 0.62, 1, 0)
    topical = [loose(f"Robson said Mourinho would cope with game {number}.", 0.3, 1, 100 * number)
               for number in range(1, 4)]
    answer = loose("The pair worked together at Barcelona and Porto for four years.", 0.63, 1, 500)
    candidates = [lede, *topical, answer]
    plain = select_answer(terms, candidates, AnswerConfig(max_sentences=1, min_score=0.3, topic_discount=0.0),
                          question=question)
    discounted = select_answer(terms, candidates, AnswerConfig(max_sentences=1, min_score=0.3, topic_discount=1.0),
                               question=question)
    assert plain.answer is not None and plain.answer.citations[0].text == lede.sentence.text
    assert discounted.answer is not None and discounted.answer.citations[0].text == answer.sentence.text
    # Abstention is decided on relevance, which the discount leaves alone.
    assert discounted.best_score == plain.best_score


def test_topic_shares_count_a_sentence_once_however_many_passages_hold_it() -> None:
    first = loose("Robson praised Mourinho after the match in London.", 0.5, 1, 0)
    again = replace(first, passage_rank=2)
    other = loose("The pair worked together at Barcelona for four years.", 0.5, 2, 100)
    shares = topic_shares({"mourinho": 1.0, "togeth": 1.0}, [first, again, other])
    assert shares == {"d": {"mourinho": 0.5, "togeth": 0.5}}
