"""``grounded bench verifier``'s scoring (pure): claim labels from sentence checks, columns, policies."""

from __future__ import annotations

from bench.perf.verifier import accuracy_table, outcome, policy_table, verifier_tables
from grounding.records import Evidence, Reason, SentenceCheck, Verdict, VerifierReading

WINDOW = Evidence(doc_id="d", start_char=0, end_char=40, text="The restoration cost four million euros.")


def check(text: str, verdict: Verdict, rules: Verdict, probabilities: tuple[float, float, float] | None,
          reasons: tuple[Reason, ...] = ()) -> SentenceCheck:
    reading = None if probabilities is None else VerifierReading(
        label="supported", probabilities=probabilities, model="m@1", window=WINDOW)
    return SentenceCheck(text=text, start=0, end=len(text), verdict=verdict, score=0.9, evidence=None,
                         reasons=reasons, rules_verdict=rules, verifier=reading)


def test_claim_labels_columns_and_policies() -> None:
    nine = "The restoration cost nine million euros."
    changed = outcome("c1", "contradicted", "number_change",
                      [check(nine, "unsupported", "unsupported", (0.8, 0.1, 0.1))])
    assert changed.verifier == "supported" and not changed.rules_supported
    assert changed.policies["verifier alone"] == "supported"
    assert changed.policies["+ numbers, dates (served)"] == "contradicted"
    paraphrase = outcome("c2", "supported", "paraphrase",
                         [check("It cost four million euros to restore.", "supported", "partially_supported",
                                (0.7, 0.2, 0.1))])
    quoted = outcome("c3", "supported", "straight_quote", [check(WINDOW.text, "supported", "supported", None)])
    invented = outcome("c4", "not_enough_info", "invented_clause",
                       [check("A.", "supported", "supported", (0.9, 0.05, 0.05)),
                        check("B.", "unsupported", "supported", (0.1, 0.1, 0.8))])
    assert invented.verifier == "not_enough_info" and invented.rules_supported
    rows = accuracy_table([changed, paraphrase, quoted, invented], "+ numbers, dates (served)")
    assert rows["class:supported"] == {"claims": 2, "rules": 0.5, "verifier": 1.0, "combined": 1.0,
                                       "combined_caught": 1.0}
    assert rows["type:number_change"]["verifier"] == 0.0 and rows["type:number_change"]["combined"] == 1.0
    assert rows["all"]["rules"] == 0.5
    policies = policy_table([changed, paraphrase, quoted, invented])
    assert policies["verifier alone"]["contradicted"] == 0.0 and policies["+ numbers, dates (served)"]["all"] == 1.0
    table = verifier_tables({"split": "test", "claims": 4, "verifier": "m@1", "served_policy": "x",
                             "per_class_and_type": rows, "policies": policies, "latency": {}})
    assert "| class:supported (2) | 0.500 | 1.000 | 1.000 | 1.000 |" in table
    assert "Faithful paraphrases supported: 1.000" in table
