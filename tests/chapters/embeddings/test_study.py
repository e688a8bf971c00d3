"""Chapter 4's pipeline on synthetic embeddings where the answer is known: the highlight rule, the
neighbour table beside paper 2's, the family of tests per variant, the display tables, the maps,
the t-SNE stability check and the "What we found" sentences (on hand-made tables)."""

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
    stability = study.stability({"db12": embeddings["db12"]}, seeds=(0,), perplexities=(5, 10))
    octave = stability.set_index("relation").loc["octave"]
    assert octave["in_embedding"] and octave["share_of_layouts"] == 1.0 and octave["n_layouts"] == 2
    table = study.stability_table(stability)
    assert table["statement"].iloc[0] == "an octave of C4 among its 5 nearest" and table["in the embedding"].iloc[0] == "yes"


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
        "in_embedding": [True, False], "share_of_layouts": [1.0, 0.25], "n_layouts": [4, 4],
    })
    text = findings.embedding_findings(_family(rows), stability)
    assert "**control** (Holm over its 48 tests" in text
    assert ("octaves cluster beyond what frequency explains (4 of 6 (k, distance) settings against the frequency-matched "
            "null, 2 of 6 against the frequency-and-register-matched null; untrained embedding: 0 of 6)") in text
    assert "fifths look clustered against free shuffles (3 of 6 settings) but not against tokens of the same frequency" in text
    assert "but not beyond register: closeness in pitch may explain them" in text  # db12 octaves
    assert "the untrained embedding shows them too (2 of 6): training did not put them there" in text  # db12 fifths
    assert ("steps beat the frequency-and-register-matched null (5 of 6) but not the frequency-matched null (0 of 6): "
            "the evidence depends on the null, so it is not counted") in text  # db12 steps: no "no evidence under any null"
    assert "no evidence under any null" not in text
    assert "Octave relations are encoded in control but not shown in DB12" in text
    assert "Fifth relations are shown in neither control nor DB12" in text
    assert "t-SNE: 1 of 2 neighbour statements read the same in all 4 t-SNE layouts" in text
    assert "the fifth of C4 in db12 (fails in the embedding, shown in 25% of the layouts)" in text


def test_test_intro_says_whether_holm_can_reach_the_level():
    family = pd.DataFrame({"variant": ["control"] * 108 + ["interval"] * 72})
    assert "the smallest corrected p-value is 0.049, below the 5% level" in findings.embedding_test_intro(family, 2200)
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
