"""Profiles: the bundled ones, the paper's recipe, named errors."""

import pytest
from conftest import TINY_PROFILE, write_profile

from musiclib import published
from musiclib.experiments.grid import GridPoint, grid_points, run_dir, train_config
from musiclib.experiments.profiles import PROFILES, ProfileError, load_profile


@pytest.mark.parametrize("name", PROFILES)
def test_bundled_profiles_load(name):
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description
    design = {(point.variant, point.cell, point.num_layers) for point in grid_points(profile)}
    assert len(design) == len(profile.grid.variants) * len(profile.grid.cells) * len(profile.grid.layers)


def test_paper_profile_is_the_papers_recipe():
    from musiclib.models.train import PAPER_EPOCHS, TrainConfig

    profile = load_profile("paper")
    assert len(grid_points(profile)) == published.value("experiments") == 45
    assert profile.train.num_epochs == PAPER_EPOCHS
    assert profile.train.rnn_size == published.value("embedding_size")
    assert profile.generation.n_songs == published.value("songs_per_model")
    assert profile.generation.n_notes == published.value("generated_notes")
    config = train_config(profile, GridPoint("db12", "nas", 5))
    defaults = TrainConfig()
    for setting in ("rnn_size", "batch_size", "seq_length", "learning_rate", "decay_rate", "grad_clip", "save_every"):
        assert getattr(config, setting) == getattr(defaults, setting), setting
    assert (config.variant, config.model, config.num_layers, config.num_epochs) == ("db12", "nas", 5, 50)


def test_quick_profile_runs_the_full_design():
    profile = load_profile("quick")
    assert set(profile.grid.variants) == {"control", "interval", "db12"}
    assert set(profile.grid.cells) == {"lstm", "nas", "ugrnn"}
    assert profile.grid.layers == (1, 2, 3, 4, 5)


def test_unknown_profile_and_bad_settings_are_named(tmp_path):
    with pytest.raises(ProfileError, match="unknown profile 'huge'"):
        load_profile("huge")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "missing.toml")
    bad_key = write_profile(tmp_path, TINY_PROFILE.replace("rnn_size = 8", "rnn_sise = 8"), "bad_key")
    with pytest.raises(ProfileError, match=r"bad_key.toml, section \[train\]: unknown setting\(s\) \['rnn_sise'\]"):
        load_profile(bad_key)
    bad_type = write_profile(tmp_path, TINY_PROFILE.replace("batch_size = 4\nseq", 'batch_size = "4"\nseq'), "bad_type")
    with pytest.raises(ProfileError, match=r"bad_type.toml, section \[train\]: --batch_size must be a positive integer, got '4'"):
        load_profile(bad_type)
    bad_cell = write_profile(tmp_path, TINY_PROFILE.replace('"ugrnn"]', '"transformer"]'), "bad_cell")
    with pytest.raises(ProfileError, match="grid.cells must be each one of"):
        load_profile(bad_cell)
    no_epochs = write_profile(tmp_path, TINY_PROFILE.replace('variants = ["control"]', 'variants = ["control", "db12"]'), "no_epochs")
    with pytest.raises(ProfileError, match="train.num_epochs"):
        load_profile(no_epochs)
    set_by_grid = write_profile(tmp_path, TINY_PROFILE.replace("seed = 0\n", "seed = 0\nmodel = 'nas'\n"), "set_by_grid")
    with pytest.raises(ProfileError, match=r"\['model'\] are set by \[grid\]"):
        load_profile(set_by_grid)
    one_per_variant = write_profile(tmp_path, TINY_PROFILE.replace("seed = 0\n", "seed = { control = 1 }\n"), "per_variant")
    with pytest.raises(ProfileError, match=r"--random_seed takes one value, not one per variant"):
        load_profile(one_per_variant)


def test_train_settings_left_out_of_a_profile_are_the_papers(tmp_path):
    profile = load_profile(write_profile(tmp_path, TINY_PROFILE.replace("seed = 0\n", "").replace("grad_clip", "# grad_clip"), "short"))
    config = train_config(profile, GridPoint("control", "lstm", 1))
    assert (config.seed, config.grad_clip, config.xla, config.onednn) == (0, 5.0, "auto", True)
    assert config.rnn_size == 8  # the profile's


def test_data_source_override_gets_its_own_run_folder(tmp_path):
    profile = load_profile("smoke", data_source=str(tmp_path))
    assert profile.data.source == str(tmp_path)
    assert profile.name.startswith(f"smoke-{tmp_path.name}-")
    assert load_profile("smoke", data_source="essen").name == "smoke"
    point = GridPoint("interval", "nas", 3)
    assert run_dir("runs", load_profile("smoke"), point).as_posix() == "runs/smoke/interval/nas-3"




@pytest.mark.parametrize("name", PROFILES)
def test_embedding_permutations_let_holm_reach_five_percent(name):
    # A pitch variant's family: 2 embeddings x 3 nulls x 2 distances x 3 k x 3 relations = 108 tests.
    assert 108 / (1 + load_profile(name).embeddings.n_permutations) <= 0.05


def test_embedding_section_is_optional_and_checked(tmp_path):
    from musiclib.experiments.profiles import EmbeddingSettings

    assert load_profile(write_profile(tmp_path, TINY_PROFILE, "plain")).embeddings == EmbeddingSettings()
    bad = write_profile(tmp_path, TINY_PROFILE + "\n[embeddings]\nperplexities = [0, 5]\n", "bad_perplexity")
    with pytest.raises(ProfileError, match="embeddings must be n_permutations, perplexities"):
        load_profile(bad)
