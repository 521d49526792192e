"""The Train page continues a network taught on the Teach page, on the drawings its checkpoint keeps
(AppTest, in English and Chinese); one saved before Save kept them, or with damaged ones, says why not."""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lenet_viz import teach
from lenet_viz.checkpoints import CheckpointError, load_checkpoint
from lenet_viz.i18n import Msg, count_text, t
from lenet_viz.page_state import TrainState
from tests.unit.test_kept_examples import reworked, taught
from tests.unit.test_teach import CLASSES, report

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "train.py")
LANGS = ("en", "zh")


def page(lang: str, saved: dict[str, bytes]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["lang"] = lang
    at.session_state["saved_models"] = saved
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def load(at: AppTest, lang: str, label: str) -> AppTest:
    """Pick a saved network under "Continue training a saved network" and press Load."""
    at.selectbox(key=TrainState.key("resume_pick")).set_value(label)
    button(at.run(), t("train.resume_button", lang)).click().run()
    assert not at.exception, at.exception
    return at


def state(at: AppTest) -> TrainState:
    return at.session_state[TrainState.state_key()]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGS)
def test_a_taught_network_continues_on_its_own_drawings_and_the_result_saves_with_them(lang):
    at = load(page(lang, {"taught": taught(per_class=8, held_per_class=2)}), lang, "taught")
    names = teach.class_list(CLASSES)
    loaded = t("train.taught_loaded", lang, names=names, epochs=count_text("train.n_epochs", 4.0, lang), count=24,
               optimizer="Adam", lr="0.01", batch=16)
    assert any(loaded == s.value for s in at.success), [s.value for s in at.success]
    assert at.selectbox(key=TrainState.key("dataset")).value == teach.DATASET
    assert t("train.taught_dataset", lang) in at.selectbox(key=TrainState.key("dataset")).options
    assert any(c.value == t("train.taught_examples", lang, count=24, classes=3, names=names, train=18, held=6)
               for c in at.caption)
    assert not [w for w in at.text_input if w.key and w.key.startswith(TrainState.key("data_dir"))]  # no folder box
    assert not [w for w in at.selectbox if w.key == TrainState.key("network")]  # the network is the taught one
    assert at.radio(key=TrainState.key("optimizer")).value == "adam"  # as it was taught
    assert at.select_slider(key=TrainState.key("batch_size")).value == 16
    at.number_input(key=TrainState.key("epochs")).set_value(3)
    before = state(at).run

    button(at.run(), t("train.continue", lang)).click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run = state(at).run
    assert run is before  # Continue trains the loaded network on, on its drawings
    assert run.join(60)
    at.run()
    view = run.view()
    assert view.status == "finished", view.message
    assert view.history[-1].epoch == pytest.approx(7.0) and view.history[-1].test_acc is not None
    assert [m.label for m in at.metric] == [t(f"train.metric.{k}", lang) for k in
                                            ("train_loss", "train_acc", "test_acc", "speed", "elapsed", "remaining")]
    assert at.subheader[0].value == t("train.taught_heading", lang, names=names, count="18")
    label = at.text_input(key=TrainState.key("save_label", view.run)).value
    assert label.startswith(t("train.taught_save_label", lang, names=names, epochs="7.0", tested=""))

    button(at, t("train.save", lang)).click().run()
    assert not at.exception
    saved = load_checkpoint(at.session_state["saved_models"][label])
    assert saved.dataset == teach.DATASET and saved.history[-1].epoch == pytest.approx(7.0) and saved.snapshots
    assert saved.examples is not None and saved.examples.held_out.sum() == 6  # it can be continued again
    assert any(t("train.saved", lang, label=label) == s.value for s in at.success)


@pytest.mark.slow
def test_the_dataset_can_go_back_to_mnist_where_continue_does_not_apply():
    at = load(page("en", {"taught": taught()}), "en", "taught")
    at.selectbox(key=TrainState.key("dataset")).set_value("mnist").run()
    assert not at.exception
    assert at.selectbox(key=TrainState.key("network"))  # the network choice is back, and the data folder
    assert at.text_input(key=TrainState.key("data_dir", "mnist"))
    assert button(at, "Continue").disabled  # the taught network does not train on MNIST
    at.selectbox(key=TrainState.key("dataset")).set_value(teach.DATASET).run()
    assert not button(at, "Continue").disabled


@pytest.mark.parametrize("lang", LANGS)
def test_a_taught_network_saved_without_its_drawings_says_why_and_what_to_do(lang):
    old = teach.taught_checkpoint(report()[1])  # as Save made them before it kept the drawings
    at = load(page(lang, {"old": old}), lang, "old")
    assert [e.value for e in at.error] == [t("train.taught_no_examples", lang)]
    assert state(at).run is None and at.selectbox(key=TrainState.key("dataset")).value != teach.DATASET


@pytest.mark.parametrize("lang", LANGS)
def test_damaged_drawings_say_so_and_nothing_is_loaded(lang):
    def shifted(raw):
        raw["examples"]["labels"] = raw["examples"]["labels"] + torch.tensor(5)
    at = load(page(lang, {"damaged": reworked(taught(), shifted)}), lang, "damaged")
    said = CheckpointError.keyed("train.taught_bad_examples", name=Msg("checkpoint.the_upload"), what="labels")
    assert [e.value for e in at.error] == [said.text(lang)]
    assert state(at).run is None


@pytest.mark.parametrize("lang", LANGS)
def test_a_text_file_to_continue_is_refused_in_words_and_the_saved_network_stays_offered(lang):
    at = page(lang, {"taught": taught(per_class=8, held_per_class=2)})
    at.file_uploader(key=TrainState.key("resume_file")).upload("notes.txt", b"my notes", "text/plain").run()
    assert not at.exception, at.exception
    said = t("checkpoint.wrong_type", lang, name="notes.txt", suffixes=".pt / .pth")
    assert [e.value for e in at.error] == [said]
    assert button(at, t("train.resume_button", lang)).disabled  # nothing to load: the text file is not offered
    load(at, lang, "taught")  # the saved network still loads
    assert at.session_state[TrainState.state_key()].run is not None
