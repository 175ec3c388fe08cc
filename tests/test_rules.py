"""Codebook consistency checks: the guide's rules as data, on labels and on predictions."""

from __future__ import annotations

import json

import pytest

from labeling.rules import check_pairs, load_rules
from stance.errors import StanceError
from tests.conftest import REPO, run_cli

PK = {"actor": "pakistan", "stance": "demand"}


def test_a_crafted_snapshot_gets_each_rule_violation_reported_with_its_sentence(tmp_path):
    rows = [
        {"sentence_id": "a:1", "pairs": [{"actor": "pakistan", "stance": "none"}], "annotations": []},
        {"sentence_id": "a:2", "pairs": [PK, PK], "annotations": []},
        {
            "sentence_id": "a:3",
            "pairs": [],
            "annotations": [
                {
                    "annotator": "ann-x",
                    "pairs": [{"actor": "ttp", "stance": "mediation"}],
                    "ground_truth": False,
                }
            ],
        },  # fmt: skip
        {"sentence_id": "a:4", "pairs": [{"actor": "mediator", "stance": "accusation"}], "annotations": []},
        {"sentence_id": "a:5", "pairs": [PK], "annotations": []},  # clean
    ]
    snap = tmp_path / "snap.jsonl"
    snap.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = run_cli("labeling", "check", str(snap))
    lines = out.stdout.decode().splitlines()
    assert out.returncode == 1  # blocking rules were broken
    assert [line.split(": ")[1:3] for line in lines[:-1]] == [
        ["a:1", "none-together"],
        ["a:2", "no-repeated-pair"],
        ["a:3 (ann-x)", "side-mediates"],
        ["a:4", "mediator-accuses"],
    ]
    assert lines[-1] == "4 violation(s) of 4 rules (2 of blocking rules)"


def test_rules_are_data_and_an_unknown_key_is_one_clear_line(tmp_path, scheme):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "rules:\n  - id: taliban-mediates\n    kind: holder_stance\n    description: review\n"
        "    actors: [afghan_taliban]\n    stances: [mediation]\n    severity: high\n"
    )
    with pytest.raises(StanceError) as err:
        load_rules(scheme, path)
    assert str(err.value) == (
        f"{path}: unknown key 'rules.0.severity' "
        "(allowed keys: actors, blocking, description, id, kind, stances)"
    )
    path.write_text(path.read_text().replace("    severity: high\n", ""))  # a user's own rule, no code
    (rule,) = load_rules(scheme, path)
    hits = check_pairs([rule], [{"actor": "afghan_taliban", "stance": "mediation"}], "s:1", scheme.none)
    assert [(v.rule, v.where, v.blocking) for v in hits] == [("taliban-mediates", "s:1", False)]
    path.write_text(path.read_text().replace("[afghan_taliban]", "[taliban]"))
    with pytest.raises(
        StanceError, match="rule 'taliban-mediates': actor 'taliban' is not in the label scheme"
    ):
        load_rules(scheme, path)


def test_import_stops_on_a_blocking_rule_and_lists_review_flags(tmp_path, scheme):
    from labeling.annotations import import_annotations

    line = json.loads((REPO / "corpus" / "annotations.jsonl").read_text().splitlines()[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**line, "annotator": "ann-z", "pairs": [PK, PK]}) + "\n")
    with pytest.raises(StanceError) as err:
        import_annotations([bad], scheme, tmp_path / "snap")
    assert str(err.value).startswith(
        f"{bad}: {line['article']}:{line['start']}-{line['end']} (ann-z): no-repeated-pair"
    )
    assert not (tmp_path / "snap").exists()
