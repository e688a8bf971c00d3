"""Chapter 4's pipeline on synthetic embeddings where the answer is known: the highlight rule, the
neighbour table beside paper 2's and its statements, the family of tests per variant, the
control-vs-DB12 test, the display tables, the maps, the t-SNE stability check and the "What we
found" sentences (on hand-made tables)."""

import numpy as np
import pandas as pd
import pytest

from musiclib import published
from musiclib.chapters.embeddings import findings, study
from musiclib.chapters.embeddings.study import VariantEmbedding
from musiclib.measures.embedding_tests import robustness

PITCHES = np.arange(48, 84)  # C3..B5
INTERVALS = np.arange(-12, 13)


def _octave_embedding(tokens, rng):
    """Vectors that are the pitch class (one-hot) plus noise: every token's neighbours are its octaves."""
    return np.eye(12)[np.asarray(tokens) % 12] + 0.05 * rng.standard_normal((len(tokens), 12))


@pytest.fixture(scope="module")
def embeddings():
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 500, len(PITCHES))
    return {
        "control": VariantEmbedding("control", "control lstm, 1 layer", PITCHES, counts, rng.standard_normal((len(PITCHES), 12)), rng.standard_normal((len(PITCHES), 12))),
        "interval": VariantEmbedding("interval", "interval lstm, 1 layer", INTERVALS, rng.integers(1, 500, len(INTERVALS)), rng.standard_normal((len(INTERVALS), 12)), rng.standard_normal((len(INTERVALS), 12))),
        "db12": VariantEmbedding("db12", "db12 lstm, 1 layer", PITCHES, counts, _octave_embedding(PITCHES, rng), rng.standard_normal((len(PITCHES), 12))),
    }


@pytest.fixture(scope="module")
def family(embeddings):
    return study.variant_tests(embeddings, n_permutations=2200)


def test_octave_tokens_are_the_cs_or_whole_octaves():
    assert study.octave_tokens([48, 55, 60, 61, 72], "control") == [48, 60, 72]
    assert study.octave_tokens([-12, -3, 0, 3, 12, 24], "interval") == [-12, 0, 12, 24]


def test_neighbour_table_aligns_ours_with_the_papers_ranks(embeddings):
    tokens = list(range(50, 75))
    vectors = np.random.default_rng(0).normal(size=(len(tokens), 4))
    table = study.neighbour_table(vectors, tokens, "control", k=5)
    paper = published.table("paper2_neighbours").query("variant == 'control'")
    assert len(table) == max(5, len(paper))
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert table["paper distance"].iloc[0] == paper["cosine_distance"].iloc[0]
    assert table["ours (cosine)"].iloc[5:].eq("").all()  # only 5 of ours
    assert study.neighbour_table(vectors, list(range(70, 95)), "control") is None  # no middle C
    together = study.neighbour_tables(embeddings)
    assert list(dict.fromkeys(together["dataset"])) == ["control", "interval", "db12"]
    db12 = together[together["dataset"] == "db12"]
    assert set(db12["ours (cosine)"].iloc[:2]) == {"C3", "C5"}  # the octaves of C4 in the planted embedding


def test_the_family_finds_the_planted_octaves_only(family):
    assert family.groupby("variant", sort=False).size().to_dict() == {"control": 108, "interval": 72, "db12": 108}
    significant = family[family["significant"]]
    assert set(significant["variant"]) == {"db12"}
    assert set(significant["relation"]) == {"octave"} and set(significant["embedding"]) == {"trained"}
    robust = robustness(family)
    octave = robust[(robust["variant"] == "db12") & (robust["embedding"] == "trained") & (robust["relation"] == "octave")]
    assert octave["significant"].tolist() == [6, 6, 6] and octave["settings"].tolist() == [6, 6, 6]


def test_display_tables(family):
    tests = study.relation_test_table(family)
    assert len(tests) == 3 * 2 * 3  # variants x embeddings x relations
    assert tests.columns[:4].tolist() == ["dataset", "embedding", "relation", "observed"]
    assert tests[tests["dataset"] == "interval"]["p Holm (frequency+register)"].isna().all()
    planted = tests[(tests["dataset"] == "db12") & (tests["embedding"] == "trained") & (tests["relation"] == "octave")]
    assert planted["observed"].item() == 0.4  # each C has 2 octaves among its 5 neighbours
    assert planted["p Holm (frequency)"].item() <= 0.05
    counts = study.robustness_table(robustness(family))
    assert counts.columns.tolist() == ["dataset", "embedding", "relation", "free", "frequency", "frequency+register"]
    assert counts.loc[(counts["dataset"] == "db12") & (counts["relation"] == "octave") & (counts["embedding"] == "trained"), "frequency"].item() == "6 / 6"
    assert counts.loc[counts["dataset"] == "interval", "frequency+register"].eq("").all()
    versus = study.variant_comparison_table(family).set_index("relation")
    assert versus.columns.tolist() == [f"{v}: {c}" for v in ("control", "interval", "db12") for c in ("observed / chance", "p Holm")]
    assert versus.loc["octave", "db12: observed / chance"] > 5 and versus.loc["octave", "db12: p Holm"] <= 0.05


def test_maps_and_stability(embeddings):
    pca = study.token_maps(embeddings, "pca")
    assert pca["db12"]["points"].shape == (len(PITCHES), 2) and "PCA" in pca["db12"]["title"]
    assert pca["control"]["highlight"] == ["C3", "C4", "C5"]
    tsne = study.token_maps({"interval": embeddings["interval"]}, "tsne", perplexity=30, seed=1)
    assert tsne["interval"]["title"] == "interval lstm, 1 layer: t-SNE, perplexity 8, seed 1"  # capped at (25 - 1) / 3
    with pytest.raises(ValueError, match="projection must be"):
        study.token_maps(embeddings, "umap")
    # 36 pitches: the cap is 35 / 3 = 11.7, so 15 and 30 are one perplexity, clipped to it
    stability = study.stability({"db12": embeddings["db12"]}, seeds=(0, 1), perplexities=(5, 15, 30))
    octave = stability.set_index("relation").loc["octave"]
    assert octave["in_embedding"] and octave["share_of_layouts"] == 1.0
    assert octave["n_layouts"] == 4 and octave["distinct_layouts"] == 4
    table = study.stability_table(stability)
    assert table["statement"].iloc[0] == "an octave of C4 among its 5 nearest" and table["in the embedding"].iloc[0] == "yes"
    layouts = study.layout_table(stability).iloc[0]
    assert layouts["perplexities used"] == "5, 11.7" and layouts["clipped to the cap"] == "15, 30"
    assert layouts["seeds (random start)"] == "0, 1" and layouts["layouts"] == 4 and layouts["distinct layouts"] == 4
    assert layouts["cap (tokens - 1) / 3"] == pytest.approx(35 / 3)


def test_transposition_test_finds_the_planted_octaves(embeddings):
    test = study.transposition_test(embeddings, n_permutations=2000)
    assert test.loc["octave", "other_share"] == pytest.approx(0.4)  # DB12: 2 octaves among 5 neighbours
    assert test.loc["octave", "p_holm"] <= 0.05 and test.loc["octave", "ci_low"] > 0
    assert test.loc["fifth", "p_holm"] > 0.05  # neither embedding plants fifths
    table = study.transposition_table(test).set_index("relation")
    assert table.loc["octave", "pitches"] == 36 and table.loc["octave", "DB12"] == pytest.approx(0.4)
    low, high = test.loc["octave", ["ci_low", "ci_high"]]
    assert table.loc["octave", "95% interval"] == f"{low:+.3f} to {high:+.3f}"
    without_db12 = study.transposition_test({"interval": embeddings["interval"]}, n_permutations=100)
    assert without_db12.empty and study.transposition_table(without_db12).empty
    assert findings.transposition_findings(without_db12) == ""


def test_paper_statements_in_the_planted_embeddings(embeddings):
    statements = study.paper_statements(embeddings)
    rows = statements.set_index(["variant", "statement"])
    # paper 2's DB12 list without C7 (beyond C3..B5): C3 first, at rank 2
    assert rows.loc[("db12", "nearest"), "text"] == "C3 is C4's nearest neighbour"
    assert rows.loc[("db12", "nearest"), ["paper_token", "paper_rank"]].tolist() == [48, 2]
    assert rows.loc[("db12", "nearest_is_octave"), "ours_holds"]  # the planted octaves: C3 or C5
    assert rows.loc[("db12", "octave_among_k"), "ours_holds"]
    # paper 2's control list: E8, E9, C8, B8 lie outside C3..B5, so G4 (rank 5) comes first
    assert rows.loc[("control", "nearest"), "text"] == "G4 is C4's nearest neighbour"
    assert not rows.loc[("control", "nearest_is_octave"), "paper_holds"]
    assert rows.loc[("interval", "nearest"), "text"] == "+1 is +3's nearest neighbour"
    # a vocabulary without -9, the paper's only octave of +3: that statement has no token in the paper's list
    narrow = VariantEmbedding("interval", "interval lstm, 1 layer", np.arange(-5, 13), np.ones(18, int), np.eye(18), np.eye(18))
    octave = study.paper_statements({"interval": narrow}).set_index("statement").loc["octave_among_k"]
    assert octave["text"] == "an octave of +3 is among its 12 nearest" and not octave["paper_holds"] and pd.isna(octave["paper_token"])
    assert study.paper_statement_table(study.paper_statements({"interval": narrow}))["paper"].iloc[2] == "no: none"
    table = study.paper_statement_table(statements).set_index(["dataset", "statement"])
    assert table.loc[("db12", "C3 is C4's nearest neighbour"), "paper"] == "yes: C3, rank 2"
    assert table.loc[("control", "C4's nearest neighbour is an octave of it"), "paper"] == "no: G4, rank 5"
    assert table.loc[("control", "an octave of C4 is among its 12 nearest"), "paper"] == "yes: C3, rank 6"


def _family(rows):
    """A variant_tests-like table from (variant, embedding, null, relation, significant settings of 6)."""
    settings = [(k, d) for k in (3, 5, 10) for d in ("cosine", "euclidean")]
    return pd.DataFrame([
        {"variant": v, "embedding": e, "null": n, "relation": r, "k": k, "distance": d, "ratio": 1.0,
         "p_holm": 0.01 if i < hits else 1.0, "significant": i < hits}
        for v, e, n, r, hits in rows for i, (k, d) in enumerate(settings)
    ])


def test_findings_claim_a_relation_only_under_the_matched_nulls():
    rows = [
        ("control", "trained", "free", "octave", 6), ("control", "trained", "frequency", "octave", 4),
        ("control", "trained", "frequency+register", "octave", 2), ("control", "untrained", "frequency", "octave", 0),
        ("control", "trained", "free", "fifth", 3), ("control", "trained", "frequency", "fifth", 0),
        ("control", "trained", "frequency+register", "fifth", 0), ("control", "untrained", "frequency", "fifth", 0),
        ("db12", "trained", "free", "octave", 6), ("db12", "trained", "frequency", "octave", 6),
        ("db12", "trained", "frequency+register", "octave", 0), ("db12", "untrained", "frequency", "octave", 0),
        ("db12", "trained", "free", "fifth", 1), ("db12", "trained", "frequency", "fifth", 1),
        ("db12", "trained", "frequency+register", "fifth", 1), ("db12", "untrained", "frequency", "fifth", 2),
        ("db12", "trained", "free", "step", 0), ("db12", "trained", "frequency", "step", 0),
        ("db12", "trained", "frequency+register", "step", 5), ("db12", "untrained", "frequency", "step", 0),
    ]
    stability = pd.DataFrame({
        "variant": ["control", "db12"], "query": [60, 60], "relation": ["octave", "fifth"], "k": [5, 5],
        "in_embedding": [True, False], "share_of_layouts": [1.0, 0.25], "n_layouts": [4, 4], "distinct_layouts": [4, 3],
        "perplexities": [(5.0, 10.0), (5.0, 37 / 3)], "perplexity_cap": [13.0, 37 / 3], "clipped": [(), (15.0,)],
    })
    text = findings.embedding_findings(_family(rows), _transposition(0.01, 0.3), stability, _statements())
    assert "**control** (Holm over its 36 trained-embedding tests" in text  # 48 rows: the 12 untrained are their own family
    assert ("octaves cluster beyond what frequency explains (4 of 6 (k, distance) settings against the frequency-matched "
            "null, 2 of 6 against the frequency-and-register-matched null; untrained embedding: 0 of 6)") in text
    assert "fifths look clustered against free shuffles (3 of 6 settings) but not against tokens of the same frequency" in text
    assert "but not beyond register: closeness in pitch may explain them" in text  # db12 octaves
    assert "the untrained embedding shows them too (2 of 6): training did not put them there" in text  # db12 fifths
    assert ("steps beat the frequency-and-register-matched null (5 of 6) but not the frequency-matched null (0 of 6): "
            "the evidence depends on the null, so it is not counted") in text  # db12 steps: no "no evidence under any null"
    assert "no evidence under any null" not in text
    assert "Transposition tested directly" in text  # from the between-variant test, not from two verdicts
    assert ("t-SNE from random starts (control: 4 layouts, 4 distinct (perplexities 5, 10); db12: 4 layouts, 3 distinct "
            "(perplexities 5, 12.3; 15 clipped to the cap 12.3); distinct: not the same picture after Procrustes alignment)") in text
    assert "1 of 2 neighbour statements read the same in every layout as in the full embedding" in text
    assert "the fifth of C4 in db12 (fails in the embedding, shown in 25% of the layouts)" in text
    assert "read without the notes our vocabulary lacks: db12: C3 is C4's nearest neighbour" in text


def _transposition(octave_p, fifth_p):
    """A transposition_test-like table: DB12 - control of the octave and fifth shares."""
    return pd.DataFrame({
        "shared_tokens": [36, 36], "k": [5, 5], "difference": [0.12, -0.01], "ci_low": [0.05, -0.06],
        "ci_high": [0.2, 0.04], "p_holm": [octave_p, fifth_p],
    }, index=pd.Index(["octave", "fifth"], name="relation"))


def test_transposition_findings_follow_the_between_variant_test():
    text = findings.transposition_findings(_transposition(0.01, 0.3))
    assert text.startswith("Transposition tested directly (DB12 - control: the share of a pitch's 5 nearest neighbours")
    assert "over the 36 pitches both vocabularies hold, Holm over 2 relations" in text
    assert "octaves +0.120 (95% interval +0.050 to +0.200, p Holm 0.010): DB12 puts more octaves among a pitch's neighbours" in text
    assert "fifths -0.010 (95% interval -0.060 to +0.040, p Holm 0.300): no detectable change" in text
    assert text.endswith("Transposition changes what the embedding encodes.")
    weak = findings.transposition_findings(_transposition(0.2, 0.3))
    assert weak.endswith("No sign that transposition changes these relations.")
    assert "p Holm 0.200): suggestive only (the interval, not corrected for 2 relations, excludes 0; the corrected test does not)" in weak
    assert findings.transposition_findings(pd.DataFrame()) == ""


def _statements():
    """A paper_statements-like table: the DB12 example fails in ours, one more statement fails."""
    return pd.DataFrame({
        "variant": ["db12", "db12", "control", "control"],
        "text": ["C3 is C4's nearest neighbour", "an octave of C4 is among its 12 nearest", "G4 is C4's nearest neighbour",
                 "C4's nearest neighbour is an octave of it"],
        "statement": ["nearest", "octave_among_k", "nearest", "nearest_is_octave"],
        "paper_rank": [2, 2, 5, 5], "paper_holds": [True, True, True, False],
        "our_token": [48, 72, 67, 67], "our_rank": [3, 1, 1, 1], "ours_holds": [False, True, True, False],
    })


def test_paper_example_findings_say_what_reproduces():
    text = findings.paper_example_findings(_statements())
    assert text.startswith(
        "Paper 2's neighbour lists, read without the notes our vocabulary lacks: db12: C3 is C4's nearest neighbour in the "
        "paper's list (rank 2 there, the closer ones lying "
        "outside our vocabulary), not in ours (rank 3); control: G4 is C4's nearest neighbour in the paper's list "
        "(rank 5 there, the closer ones lying outside our vocabulary), and in ours too."
    )
    assert text.endswith("2 of the 3 statements the paper's lists show hold in our embeddings (not: db12, C3 is C4's nearest neighbour).")
    ours_only = _statements().assign(our_token=[48, 72, 67, 48], ours_holds=[False, True, True, True])
    assert text[:-1] + "; ours also show what the paper's lists do not: control, C4's nearest neighbour is an octave of it (C3)." == (
        findings.paper_example_findings(ours_only)
    )


def test_test_intro_says_whether_holm_can_reach_the_level():
    family = pd.DataFrame({
        "variant": ["control"] * 108 + ["interval"] * 72,
        "embedding": (["trained"] * 54 + ["untrained"] * 54) + (["trained"] * 36 + ["untrained"] * 36),
    })
    text = findings.embedding_test_intro(family, 1100)
    assert "(control: 54 tests, interval: 36 tests), so the smallest corrected p-value is 0.049, below the 5% level" in text
    assert "The untrained embedding's tests are a reference, corrected as a family of their own." in text
    assert "no test can be significant with this profile" in findings.embedding_test_intro(family, 1000)


def test_projector_folders_and_help(tmp_path):
    class Run:  # a finished run's folder is all projector_folders reads
        def __init__(self, run_dir):
            self.run_dir = run_dir

    folder = tmp_path / "control" / "tensorboard" / "embedding"
    folder.mkdir(parents=True)
    (folder / "projector_config.pbtxt").write_text("embeddings {}")
    folders = study.projector_folders({"control": Run(tmp_path / "control"), "db12": Run(tmp_path / "db12")})
    assert folders == {"control": folder, "db12": None}
    text = findings.projector_help(folders)
    assert f"- control: `{folder}`" in text and "- db12: no projector file found" in text and "tensorboard --logdir" in text
    shown = findings.projector_help(folders, runs_dir=tmp_path)
    assert f"- control: `{tmp_path.name}/control/tensorboard/embedding`" in shown and str(tmp_path.parent) not in shown
    assert f"`{folder}`" in findings.projector_help(folders, runs_dir=tmp_path / "elsewhere")
