import json
import re
from pathlib import Path

import pytest

from labeling.agreement import agreement
from labeling.annotations import default_raw_files, import_annotations, with_defaults
from labeling.records import Annotation, resolve
from labeling.snapshot import data_version, latest_snapshot, load_snapshot
from stance import paths
from stance.errors import StanceError
from stance.scheme import Pair

PK_DEMAND, TB_DENIAL, MED = (
    Pair("pakistan", "demand"),
    Pair("afghan_taliban", "denial"),
    Pair("mediator", "mediation"),
)


def ann(name, *pairs, truth=False):
    return Annotation(name, tuple(pairs), truth)


def test_ground_truth_wins_over_the_annotators():
    pairs, how = resolve([ann("a", PK_DEMAND), ann("b", TB_DENIAL), ann("reviewer", TB_DENIAL, truth=True)])
    assert (pairs, how) == ((TB_DENIAL,), "ground_truth")


def test_agreement_keeps_only_secondary_pairs_both_gave():
    pairs, how = resolve([ann("a", PK_DEMAND, TB_DENIAL, MED), ann("b", PK_DEMAND, MED)])
    assert (pairs, how) == ((PK_DEMAND, MED), "agreement")


def test_majority_decides_and_a_tie_is_left_unresolved():
    assert resolve([ann("a", PK_DEMAND), ann("b", PK_DEMAND), ann("c")]) == ((PK_DEMAND,), "majority")
    assert resolve([ann("a", PK_DEMAND), ann("b", TB_DENIAL)]) == (None, "unresolved")
    assert resolve([ann("a"), ann("b")]) == ((), "agreement")


def test_cohens_kappa_for_two_annotators(scheme):
    # 4 units, agreeing on 3 stances: kappa = (0.75 - 0.3125) / (1 - 0.3125)
    units = [
        [ann("a", PK_DEMAND), ann("b", PK_DEMAND)],
        [ann("a"), ann("b")],
        [ann("a", TB_DENIAL), ann("b", TB_DENIAL)],
        [ann("a", PK_DEMAND), ann("b")],
    ]
    out = agreement(units, scheme)
    assert out["stance"]["metric"] == "cohen_kappa"
    assert out["stance"]["observed_agreement"] == 0.75
    assert out["stance"]["value"] == pytest.approx(0.6364, abs=1e-4)


def test_krippendorffs_alpha_for_three_annotators(scheme):
    units = [
        [ann(n, PK_DEMAND) for n in "abc"],
        [ann(n) for n in "abc"],
        [ann("a", MED), ann("b", MED), ann("c")],
    ]
    out = agreement(units, scheme)
    assert out["actor"]["metric"] == "krippendorff_alpha"
    assert 0 < out["actor"]["value"] < 1


def test_committed_snapshot_is_reproduced_exactly_by_the_import(scheme):
    """Raw annotations in git -> the same snapshot bytes, so the data version is reproducible."""
    committed = latest_snapshot()
    report = import_annotations(default_raw_files(), scheme)
    assert report["new"] is False
    assert report["data_version"] == data_version(committed)
    assert committed.name == f"annotations-{report['data_version']}.jsonl"
    assert report["unresolved"] == []


def test_corpus_import_reports_agreement_and_reviewer_decisions(scheme):
    report = import_annotations([paths.corpus() / "annotations.jsonl"], scheme)
    corpus = report["sources"][str(paths.corpus() / "annotations.jsonl")]
    assert corpus["resolved_by"] == {"agreement": 312, "ground_truth": 13}
    assert corpus["agreement"]["stance"]["value"] > 0.9
    assert corpus["dropped_as_furniture"] == ["A Fraught Relationship", "Published in Dawn, June 3rd, 2022"]
    # this partial import became the latest; the full import points LATEST back
    assert import_annotations(default_raw_files(), scheme)["new"] is False


def test_every_snapshot_record_is_in_the_scheme_and_sliced_from_its_article(scheme):
    from labeling.annotations import find_article
    from labeling.articles import read_article

    records = load_snapshot(latest_snapshot(), scheme)
    assert len(records) == 2466 and all(
        r.pairs is not None for r in records
    )  # seeds 83, corpus 325, coverage 2058
    texts = {}
    for r in records[::7]:
        s = r.sentence
        texts.setdefault(s.article, read_article(find_article(s.article)).text)
        assert texts[s.article][s.start : s.end] == s.text


def _raw_line(**changes):
    line = json.loads((paths.corpus() / "annotations.jsonl").read_text().splitlines()[0])
    return json.dumps(line | changes)


def test_a_label_outside_the_scheme_stops_the_import_and_writes_nothing(tmp_path, scheme):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(_raw_line(pairs=[{"actor": "india", "stance": "demand"}]) + "\n")
    before = sorted(paths.snapshots().iterdir())
    with pytest.raises(
        StanceError, match=re.escape(f"{bad}:1 (corpus-001): actor 'india' is not in the label scheme")
    ):
        import_annotations([bad], scheme)
    assert sorted(paths.snapshots().iterdir()) == before


def test_text_that_does_not_match_the_article_is_refused(tmp_path, scheme):
    bad = tmp_path / "shifted.jsonl"
    bad.write_text(_raw_line(start=1) + "\n")
    with pytest.raises(StanceError, match="text does not match article corpus-001 at 1:"):
        import_annotations([bad], scheme)


def test_import_command_fails_with_one_line_on_a_bad_label(tmp_path):
    from tests.conftest import run_cli

    bad = tmp_path / "bad.jsonl"
    bad.write_text(_raw_line(pairs=[{"actor": "pakistan", "stance": "threat"}]) + "\n")
    out = run_cli("import-annotations", str(bad))
    assert out.returncode == 2
    assert out.stderr.decode().strip().splitlines() == [
        f"error: {bad}:1 (corpus-001): stance 'threat' is not a stance of a pair (stances: demand, "
        "denial, accusation, mediation; a sentence with no pair has stance 'none')"
    ]


def test_a_sentence_labeled_in_two_raw_files_names_both_and_writes_nothing(tmp_path, scheme):
    """A user's file holding a sentence the project's raw files label already (a copied line, a
    re-export) was refused as `sentence … is annotated in more than one raw file`: which files?"""
    mine = tmp_path / "mine.jsonl"
    mine.write_text(_raw_line() + "\n" + _raw_line(annotator="someone-else") + "\n")
    before = sorted(paths.snapshots().iterdir())
    with pytest.raises(StanceError) as refused:
        import_annotations(with_defaults([mine]), scheme)
    assert re.fullmatch(
        re.escape(f"{mine}: 1 sentence of it is labeled in {paths.corpus() / 'annotations.jsonl'} too (")
        + r"corpus-001:[0-9a-f]{8}"
        + re.escape(
            "): a sentence's labels come from one raw file (a pulled studio-*.jsonl excepted): "
            "drop it from one of the two files; nothing was written"
        ),
        str(refused.value),
    )
    assert sorted(paths.snapshots().iterdir()) == before


def test_a_raw_file_given_twice_is_read_once(tmp_path):
    """`import-annotations mine.jsonl ./mine.jsonl` (a re-run, a glob that matched twice) was
    refused as every one of its sentences being annotated in two files."""
    mine = tmp_path / "mine.jsonl"
    mine.write_text(_raw_line() + "\n")
    assert with_defaults([mine, tmp_path / "." / "mine.jsonl"]) == default_raw_files() + [mine]


def test_a_snapshot_with_windows_line_endings_keeps_its_data_version(tmp_path, scheme):
    """A snapshot saved or checked out with CRLF line endings (Git for Windows' default
    ``core.autocrlf``) is the same data: it was another data version, so its runs were not compared
    with the team's and its name no longer matched its content; a byte-order mark already was not."""
    snapshot = latest_snapshot()
    crlf = tmp_path / snapshot.name
    crlf.write_bytes(snapshot.read_bytes().replace(b"\n", b"\r\n"))
    assert data_version(crlf) == data_version(snapshot) == snapshot.stem.rsplit("-", 1)[1]
    assert load_snapshot(crlf, scheme) == load_snapshot(snapshot, scheme)


def test_reimport_writes_no_new_snapshot(scheme):
    first = import_annotations(default_raw_files(), scheme)
    files = sorted(paths.snapshots().iterdir())
    second = import_annotations(default_raw_files(), scheme)
    assert second["new"] is False and second["snapshot"] == first["snapshot"]
    assert sorted(paths.snapshots().iterdir()) == files


def test_a_team_of_several_annotators_gets_cohens_kappa_per_pair_and_their_mean(scheme):
    from labeling.agreement import agreement
    from labeling.records import Annotation
    from stance.scheme import Pair

    d = (Pair("pakistan", "demand"),)
    units = [[Annotation("x", p), Annotation("y", p)] for p in [d] * 5 + [()] * 5]  # x and y always agree
    y_z = [(d, d)] * 4 + [(d, ())] + [((), ())] * 4 + [((), d)]  # observed 0.8, chance 0.5
    units += [[Annotation("y", a), Annotation("z", b)] for a, b in y_z]
    stance = agreement(units, scheme)["stance"]
    assert stance["metric"] == "krippendorff_alpha"
    assert stance["pairwise_kappa"] == {
        "mean": 0.8,
        "pairs": {"x|y": {"kappa": 1.0, "units": 10}, "y|z": {"kappa": 0.6, "units": 10}},
    }


def test_agreement_of_a_team_that_gave_one_label_throughout_is_full_not_a_crash(scheme):
    from labeling.agreement import agreement
    from labeling.records import Annotation

    units = [[Annotation("x", ()), Annotation("y", ())], [Annotation("y", ()), Annotation("z", ())]]
    stance = agreement(units, scheme)["stance"]
    assert (stance["metric"], stance["value"], stance["observed_agreement"]) == (
        "krippendorff_alpha",
        1.0,
        1.0,
    )


def test_two_annotators_who_gave_one_label_throughout_agree_fully_with_no_warning(scheme):
    """Two annotators agreeing on one stance in a small file (one sentence, or an article all
    'none'): Cohen's κ is undefined there; it was printed as nan after four lines of scikit-learn
    warnings (`import-annotations`, `pull`), where the team's α and each pair's κ say 1.0."""
    import warnings

    units = [[ann("a", PK_DEMAND), ann("b", PK_DEMAND)], [ann("a", PK_DEMAND), ann("b", PK_DEMAND)]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = agreement(units, scheme)
    assert [(f["metric"], f["value"], f["observed_agreement"]) for f in out.values()] == [
        ("cohen_kappa", 1.0, 1.0),
        ("cohen_kappa", 1.0, 1.0),
    ]


def test_the_import_report_in_a_log_shows_every_source_whole(scratch_root):
    """What make demo's log shows: a pipe, not a terminal. Rich's 80 columns cut the table's
    source names ("raw/seeds.j…") and wrapped each row over four lines."""
    from tests.conftest import run_cli

    out = run_cli("import-annotations")
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    for source in ("raw/seeds.jsonl", "corpus/annotations.jsonl", "raw/studio-stance.jsonl"):
        row = next(line for line in text.splitlines() if source in line)
        assert "a reviewer" in row  # the row on one line: how its conflicts were resolved
        assert "ground_truth" not in row and "single" not in row  # in words, as pull says them
    assert "…" not in text.split("codebook checks")[0]


def test_a_sentence_labeled_in_two_pulled_projects_keeps_both_and_the_reviewers_decision(tmp_path, scheme):
    # a labeled article pushed again to a second project ("r42 test", sorting before "stance"): its
    # two annotators and reviewer used to vanish from the snapshot, the later file's labels replacing them
    line = json.loads((paths.corpus() / "annotations.jsonl").read_text().splitlines()[0])
    tb = [{"actor": "afghan_taliban", "stance": "denial"}]
    pk = [{"actor": "pakistan", "stance": "demand"}]

    def raw(name, *labels):
        path = tmp_path / f"studio-{name}.jsonl"
        path.write_text(
            "".join(
                json.dumps(line | {"annotator": a, "pairs": p, "ground_truth": t}) + "\n"
                for a, p, t in labels
            )
        )
        return path

    second = raw(
        "r42-test", ("ann1", tb, False), ("ann2", pk, False), ("rev1", tb, True), ("annotator-2", tb, False)
    )
    first = raw("stance", ("annotator-2", pk, False), ("annotator-3", pk, False))
    report = import_annotations([second, first], scheme, tmp_path / "snap")
    (record,) = [
        r for r in load_snapshot(Path(report["snapshot"]), scheme) if r.sentence.start == line["start"]
    ]
    assert (record.pairs, record.resolved_by) == ((TB_DENIAL,), "ground_truth")
    # every annotator's label counts once; a name in both files is the later file's (sorted by name)
    assert sorted((a.annotator, a.pairs) for a in record.annotations) == [
        ("ann1", (TB_DENIAL,)),
        ("ann2", (PK_DEMAND,)),
        ("annotator-2", (PK_DEMAND,)),
        ("annotator-3", (PK_DEMAND,)),
        ("rev1", (TB_DENIAL,)),
    ]
