"""Train: LeNet on Fashion-MNIST or MNIST in the browser, with d2l's live curves; or a network taught on
the Teach page, continued on the drawings its checkpoint keeps."""

import os
from dataclasses import dataclass

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lenet_viz import links, preprocess, ui
from lenet_viz import netview_component as nv
from lenet_viz.advice import default_lr
from lenet_viz.checkpoints import check_upload, check_upload_name
from lenet_viz.compare_section import compare_runs
from lenet_viz.data import DATA_ENV, DataNotFound, load_dataset, locate
from lenet_viz.errors import LenetVizError
from lenet_viz.figures.train import confusion_figure, live_curves, misclassified_figure
from lenet_viz.history import last_test_acc, loss_text
from lenet_viz.i18n import count_text, localize, t
from lenet_viz.models import PRESETS, LeNetSpec, SpecError, describe, layer_plan
from lenet_viz.page_state import SAVED, Jump, TrainState, model_id
from lenet_viz.run_data import (
    TAUGHT_NETWORK,
    RunData,
    continue_data,
    load_run_data,
    preset_name,
    taught_recipe,
    trainable_problem,
)
from lenet_viz.run_slots import SLOTS, max_runs
from lenet_viz.teach import class_list
from lenet_viz.training import TrainConfig, available_devices, describe_device, pick_device
from lenet_viz.training_session import SessionView, TrainingSession, remaining_s
from lenet_viz.ui import tr

MAX_EPOCHS = 50  # also bounds how long the run of a closed tab can go on
DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}
NETWORKS = ("classic", "modern", "seed-nopad", "custom")  # described by the catalogue's train.network.<name>
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


@dataclass(frozen=True)
class RunSettings:
    """What the settings column says, handed to the buttons' callbacks (read when clicked)."""

    dataset: str
    data_dir: str
    subset: int | None
    network: str
    spec: LeNetSpec
    config: TrainConfig
    kept: RunData | None = None  # the drawings a taught network's checkpoint keeps, when they are chosen above


def alive_check():
    """Whether this browser session is still connected, for the worker's abandoned-run watchdog."""
    ctx = get_script_run_ctx()
    if ctx is None or not st.runtime.exists():
        return None
    runtime, session_id = st.runtime.get_instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def notice(kind: str, text: str) -> None:
    """A message shown once, next to the buttons."""
    ui.page_state(TrainState).notice = (kind, text)


def kept_data(state: TrainState) -> RunData | None:
    """The examples the current network's checkpoint keeps (a taught network's drawings), if any."""
    run = state.run
    return run.data if run is not None and run.data.examples is not None else None


def busy_elsewhere() -> bool:
    """One run per browser session: a second click while a run goes on only says so."""
    current = ui.page_state(TrainState).run
    if current is not None and current.view().busy:
        notice("warning", tr("train.busy"))
        return True
    return False


def start(settings: RunSettings, fresh: bool) -> None:
    """Start (fresh) or Continue: a callback, so it runs before the page is drawn again."""
    if busy_elsewhere():
        return
    try:
        state = ui.page_state(TrainState)
        if fresh:
            data = (settings.kept if settings.kept is not None else
                    load_run_data(settings.dataset, settings.data_dir, settings.subset))
            run = TrainingSession(settings.spec, data, settings.network)
        else:
            run = state.run
        run.start(settings.config, fresh=fresh, is_alive=alive_check())
        state.run = run
    except LenetVizError as exc:
        notice("error", exc.text(ui.lang()))


def load_to_continue(settings: RunSettings, data: bytes, uploaded: bool) -> None:
    """Make a saved or uploaded network the current one, so that Continue trains it further: on the
    dataset chosen above, or a taught network on the drawings its checkpoint keeps."""
    if busy_elsewhere():
        return
    state = ui.page_state(TrainState)
    try:
        if uploaded:
            check_upload(data)
        ckpt = ui.load_saved(data)
        dataset, data_dir = settings.dataset, settings.data_dir
        if settings.kept is not None:  # the taught drawings are chosen: another network goes on its own dataset
            dataset = ckpt.dataset if ckpt.dataset in DATASET_NAMES else "fashion-mnist"
            data_dir = state.data_dir.get(dataset) or ""
        run_data = continue_data(ckpt, dataset, data_dir, settings.subset)
        name = TAUGHT_NETWORK if run_data.examples is not None else preset_name(ckpt.spec) or "custom"
        run = TrainingSession.from_checkpoint(ckpt, run_data, name)
    except LenetVizError as exc:
        notice("error", exc.text(ui.lang()))
        return
    history = run.view().history
    epochs = count_text("train.n_epochs", round(history[-1].epoch, 1) if history else 0, ui.lang())
    if run_data.examples is not None:  # trained on as it was taught: the same optimizer and rate, small batches
        recipe = taught_recipe(ckpt)
        ui.update_page(state, dataset=run_data.dataset, run=run, optimizer=recipe.optimizer,
                       batch_size=recipe.batch_size, lr={f"{recipe.optimizer}_{ckpt.spec.activation}": recipe.lr})
        notice("success", tr("train.taught_loaded", names=class_list(ckpt.classes), epochs=epochs,
                             count=len(run_data.examples.labels), optimizer=OPTIMIZERS[recipe.optimizer],
                             lr=f"{recipe.lr:g}", batch=recipe.batch_size))
        return
    if name == "custom":
        st.session_state[ui.CUSTOM_SPEC] = ckpt.spec.to_dict()
    ui.update_page(state, dataset=run_data.dataset, network=name, run=run)
    notice("success", tr("train.loaded_after", name=name, epochs=epochs) if history else tr("train.loaded", name=name))


def data_settings(state: TrainState, kept: RunData | None, busy: bool,
                  fixed: links.Controls) -> tuple[str, str, int | None]:
    """Dataset, its folder and the subset size (one control of a teacher's link: ``dataset``); or the
    drawings a taught network's checkpoint keeps."""
    busy = busy or fixed.locked("dataset")
    choices = {**DATASET_NAMES, **({kept.dataset: tr("train.taught_dataset")} if kept is not None else {})}
    dataset_key = ui.bind(state, "dataset", default="fashion-mnist", options=choices)
    dataset = state.dataset if fixed.hidden("dataset") else st.selectbox(
        tr("train.dataset"), list(choices), format_func=choices.get, disabled=busy, key=dataset_key)
    if kept is not None and dataset == kept.dataset:
        count, held = len(kept.examples.labels), int(kept.examples.held_out.sum())
        st.caption(tr("train.taught_examples_no_held" if kept.tested_on_training else "train.taught_examples",
                      count=count, classes=len(kept.classes), names=class_list(kept.classes), train=count - held,
                      held=held))
        return dataset, "", None
    if fixed.hidden("dataset"):
        ui.bind(state, "data_dir", dataset, default=os.environ.get(DATA_ENV, ""))
        return dataset, state.data_dir[dataset].strip(), state.subset if state.use_subset else None
    data_dir = st.text_input(tr("train.data_dir", dataset=DATASET_NAMES[dataset]), disabled=busy,
                             placeholder=tr("train.data_dir_placeholder"), help=tr("train.data_dir_help", env=DATA_ENV),
                             key=ui.bind(state, "data_dir", dataset, default=os.environ.get(DATA_ENV, ""))).strip()
    use_subset = st.checkbox(tr("train.use_subset"), disabled=busy, key=ui.bind(state, "use_subset"))
    subset = int(st.number_input(tr("train.subset"), min_value=100, max_value=60000, step=1000,
                                 disabled=busy or not use_subset, key=ui.bind(state, "subset")))
    return dataset, data_dir, subset if use_subset else None


def network_settings(state: TrainState, busy: bool, fixed: links.Controls) -> tuple[str, LeNetSpec]:
    """The network to train: a preset, or the one built on the Output size page."""
    try:
        custom = ui.custom_spec()
    except SpecError as exc:
        custom = None
        st.warning(tr("train.custom_error", reason=exc))
    networks = [n for n in NETWORKS if n != "custom" or custom]
    lang = ui.lang()  # bound now: a format_func may also be called outside this run
    network_key = ui.bind(state, "network", default=TrainState.network, options=networks)
    network = state.network if fixed.hidden("network") else st.selectbox(
        tr("train.network"), networks, format_func=lambda n: t(f"train.network.{n}", lang),
        disabled=busy or fixed.locked("network"), key=network_key)
    spec = custom if network == "custom" else PRESETS[network]
    st.caption(tr("train.parameters", description=describe(spec, ui.lang()),
                  count=f"{layer_plan(spec).total_params:,}"))
    if spec.activation == "sigmoid":  # the seed's recipe: slow to leave chance level, which can look broken
        st.caption(tr("train.sigmoid_hint"))
    return network, spec


def run_config(state: TrainState, spec: LeNetSpec, busy: bool, fixed: links.Controls) -> TrainConfig:
    """Optimizer and its learning rate, batch size, epochs and device; those a teacher's link hides keep
    their values."""
    optimizer_key = ui.bind(state, "optimizer", default="sgd", options=OPTIMIZERS)
    lr_entry = f"{state.optimizer}_{spec.activation}"
    lr_key = ui.bind(state, "lr", lr_entry, default=default_lr(state.optimizer, spec.activation))
    if fixed.hidden("optimizer"):
        optimizer, lr = state.optimizer, state.lr[lr_entry]
    else:
        locked = busy or fixed.locked("optimizer")
        optimizer = st.radio(tr("train.optimizer"), list(OPTIMIZERS), format_func=OPTIMIZERS.get, horizontal=True,
                             disabled=locked, key=optimizer_key)
        lr = st.number_input(tr("train.lr"), min_value=1e-6, step=0.1 if optimizer == "sgd" else 0.0005, format="%g",
                             disabled=locked, help=tr("train.lr_help"), key=lr_key)
    batch_key = ui.bind(state, "batch_size")
    batch_size = state.batch_size if fixed.hidden("batch_size") else st.select_slider(
        tr("train.batch_size"), [16, 32, 64, 128, 256, 512, 1024], disabled=busy or fixed.locked("batch_size"),
        key=batch_key)
    epochs_key = ui.bind(state, "epochs")
    epochs = state.epochs if fixed.hidden("epochs") else int(st.number_input(
        tr("train.epochs"), min_value=1, max_value=MAX_EPOCHS, disabled=busy or fixed.locked("epochs"), key=epochs_key))
    devices = available_devices()
    device_key = ui.bind(state, "device", default="auto", options=devices)
    if fixed.hidden("device"):
        device = state.device
    else:
        device = st.selectbox(tr("train.device"), devices, disabled=busy or fixed.locked("device"), key=device_key)
        st.caption(tr("train.device_note", device=describe_device(pick_device("auto")), active=SLOTS.active,
                      limit=max_runs()))
    return TrainConfig(epochs=epochs, lr=float(lr), batch_size=int(batch_size), optimizer=optimizer, device=device)


def data_found(dataset: str, data_dir: str, busy: bool) -> bool:
    """Say where the data is, or how to get it."""
    try:
        found = locate(dataset, data_dir or None)[0]
    except DataNotFound as exc:
        with st.container(border=True):
            st.warning(tr("train.data_missing", dataset=DATASET_NAMES[dataset]))
            st.code(exc.text(ui.lang()), language=None, wrap_lines=True)
            st.markdown(tr("train.data_how"))
            st.code(f'python -c "from lenet_viz.data import download; download(\'{dataset}\')"', language="bash")
            if st.button(tr("train.download"), disabled=busy):
                with st.spinner(tr("train.downloading", dataset=DATASET_NAMES[dataset])):
                    try:
                        load_dataset(dataset, data_dir or None, allow_download=True)
                        notice("success", tr("train.downloaded", dataset=DATASET_NAMES[dataset]))
                    except Exception as exc:  # noqa: BLE001 - offline, proxy, disk: all reported the same way
                        notice("error", tr("train.download_failed", error=f"{type(exc).__name__}: {exc}"))
                st.rerun()
        return False
    st.caption(tr("train.data_found", dataset=DATASET_NAMES[dataset], folder=found))
    return True


def continue_saved(settings: RunSettings, busy: bool) -> None:
    """Load a network saved in this session or uploaded, to Continue it."""
    with st.expander(tr("train.resume")):
        stored = ui.saved_models()
        pick = st.selectbox(tr("train.resume_pick"), list(stored), index=None, key=TrainState.key("resume_pick"),
                            placeholder=tr("train.none_saved") if not stored else tr("train.choose"),
                            disabled=busy or not stored)
        upload = st.file_uploader(tr("train.resume_file"), key=TrainState.key("resume_file"),
                                  disabled=busy)  # any file: a wrong one is told below, not in a tooltip
        if upload is not None:
            try:
                check_upload_name(upload.name)
            except LenetVizError as exc:  # said here, at once, and the file is not offered to Continue
                st.error(exc.text(ui.lang()))
                upload = None
        st.caption(tr("train.resume_note"))
        st.caption(tr("train.taught_note"))
        chosen = upload.getvalue() if upload else stored.get(pick)
        st.button(tr("train.resume_button"), icon=":material/upload:", disabled=busy or chosen is None,
                  on_click=load_to_continue, args=(settings, chosen, upload is not None))


def settings_column(state: TrainState, busy: bool, fixed: links.Controls) -> tuple[RunSettings, bool]:
    """Every setting of a run; and whether one can start (data there, network trainable)."""
    kept = kept_data(state)
    dataset, data_dir, subset = data_settings(state, kept, busy, fixed)
    if kept is not None and dataset == kept.dataset:  # the taught network, on its own drawings
        network, spec = state.run.network, state.run.spec
        st.caption(tr("train.taught_network", description=describe(spec, ui.lang()),
                      count=f"{layer_plan(spec).total_params:,}"))
        settings = RunSettings(dataset, data_dir, subset, network, spec, run_config(state, spec, busy, fixed), kept)
        if not fixed.hidden("resume"):
            continue_saved(settings, busy or fixed.locked("resume"))
        return settings, True
    network, spec = network_settings(state, busy, fixed)
    settings = RunSettings(dataset, data_dir, subset, network, spec, run_config(state, spec, busy, fixed))
    found = data_found(dataset, data_dir, busy)
    if problem := trainable_problem(spec):
        st.warning(localize(problem, ui.lang()))
    if not fixed.hidden("resume"):
        continue_saved(settings, busy or fixed.locked("resume"))
    return settings, found and not problem


def draw_live(run: TrainingSession, polling: bool, phase: tuple, lang: str) -> None:
    """The live part: progress, metrics and curves, redrawn every half second while a run goes on."""
    now = run.view()
    if polling and now.phase != phase:
        st.rerun()  # the run stopped, or its results are ready: redraw the whole page
    current, last = now.current, (now.history[-1] if now.history else None)
    if now.running and current and last:
        label = (t("train.stopping", lang) if now.stop_requested else
                 t("train.epoch_of", lang, epoch=f"{last.epoch:.2f}", total=f"{now.end_epoch:g}"))
        st.progress(min(current.step / current.total_steps, 1.0), text=label)
    elif now.running:
        st.progress(0.0, text=t("train.starting", lang))
    if last:
        test = last_test_acc(now.history)
        cells = [*st.columns(3), *st.columns(3)]
        cells[0].metric(t("train.metric.train_loss", lang), loss_text(last.train_loss))
        cells[1].metric(t("train.metric.train_acc", lang), f"{last.train_acc:.3f}")
        cells[2].metric(t("train.metric.test_acc", lang), f"{test:.3f}" if test is not None else "–")
        cells[3].metric(t("train.metric.speed", lang), f"{last.examples_per_sec:,.0f}")
        cells[4].metric(t("train.metric.elapsed", lang), clock(last.elapsed_s))
        remaining = remaining_s(current) if now.running and current else None
        cells[5].metric(t("train.metric.remaining", lang), clock(remaining))
    if last or now.running:
        x_end = now.end_epoch if now.running or not last else last.epoch
        st.plotly_chart(live_curves(now.history, x_end, lang), width="stretch", key=TrainState.key("curves"))
    if now.hint and now.status in ("running", "finished", "stopped"):
        st.info(localize(now.hint, lang), icon=":material/lightbulb:")


def run_buttons(state: TrainState, settings: RunSettings, view: SessionView | None, ready: bool) -> None:
    """Start, Stop, Continue, and what the last click did."""
    run = state.run
    busy = bool(view and view.busy)
    same_model = bool(run and run.data.dataset == settings.dataset and run.network == settings.network
                      and run.spec.to_dict() == settings.spec.to_dict())  # by value: a reload makes new classes
    b1, b2, b3, _ = st.columns([1, 1, 1, 1.5])
    b1.button(tr("train.start"), type="primary", icon=":material/play_arrow:", width="stretch", key=state.key("start"),
              disabled=busy or not ready, on_click=start, args=(settings, True))
    b2.button(tr("train.stop"), icon=":material/stop:", width="stretch", disabled=not (view and view.running)
              or view.stop_requested, on_click=run.stop if run else None)
    b3.button(tr("train.continue"), icon=":material/fast_forward:", width="stretch",
              disabled=busy or not same_model or not (view.history or view.resumed) or view.status == "diverged",
              help=tr("train.continue_help_one" if settings.config.epochs == 1 else "train.continue_help",
                   epochs=settings.config.epochs),
              on_click=start, args=(settings, False))
    if state.notice:
        kind, text = state.notice
        state.notice = None
        getattr(st, kind)(text)


def live_column(state: TrainState, settings: RunSettings, view: SessionView | None, ready: bool) -> None:
    """The buttons, the live curves and how the run ended."""
    run_buttons(state, settings, view, ready)
    run = state.run
    if run is None:
        st.info(tr("train.press_start"), icon=":material/show_chart:")
        return
    count = f"{len(run.data.train[0]):,}"
    st.subheader(tr("train.taught_heading", names=class_list(run.data.classes), count=count)
                 if run.data.examples is not None else
                 tr("train.run_heading", network=run.network, count=count, dataset=DATASET_NAMES[run.data.dataset]))
    st.fragment(run_every=0.5 if view.busy else None)(draw_live)(run, view.busy, view.phase, ui.lang())
    if view.status not in ("idle", "running"):  # how the run ended, under its curves
        {"finished": st.success, "stopped": st.info}.get(view.status, st.error)(localize(view.message, ui.lang()))
        if view.summary and view.status != "error":
            st.code(localize(view.summary, ui.lang()), language=None, wrap_lines=True)  # a phone shows all of it
        if view.busy:
            st.info(tr("train.predicting"), icon=":material/hourglass_top:")


def confusion_and_mistakes(run: TrainingSession, view: SessionView) -> None:
    """The confusion matrix and the misclassified test images."""
    labels, classes = run.data.test[1], run.data.classes
    lang = ui.lang()
    st.markdown(tr("train.confusion"))
    st.plotly_chart(confusion_figure(labels, view.predictions, classes, lang), width="stretch")
    st.markdown(tr("train.misclassified"))
    figure = misclassified_figure(run.data.test[0], labels, view.predictions, classes, lang=lang)
    if figure is None:
        st.write(tr("train.all_right"))
    else:
        st.plotly_chart(figure, width="stretch")


def _save(state: TrainState, view: SessionView, label: str) -> str | None:
    """Save this run's network in the session once (Save then Replay keep one copy); None, with the
    reason shown, at the per-session cap."""
    if state.saved_as.get(view.run) in ui.saved_models():
        return state.saved_as[view.run]
    try:
        state.saved_as[view.run] = ui.add_saved_model(label, state.run.checkpoint())
    except ui.SessionFull as exc:
        st.error(exc.text(ui.lang()))
        return None
    return state.saved_as[view.run]


def _open_replay(run: TrainingSession, saved: str) -> None:
    """Show the saved run on the Training replay page, on the Feature maps drawing if there is one
    (that is the input the user has been looking at), else on a sample of the run's dataset."""
    drawn = nv.drawn_input(run.spec.input_size) is not None
    ui.jump(Jump("replay", {"model": model_id(SAVED, saved), "input": "drawing" if drawn else "sample"}))


def keep_network(state: TrainState, view: SessionView, locked: bool) -> None:
    """Save the network in this session (Feature maps and Training replay list it), replay it, or download it
    (all greyed out when a teacher's link locks them)."""
    run = state.run
    st.markdown(tr("train.keep"))
    test_acc = last_test_acc(view.history)
    tested = tr("train.save_tested", acc=f"{test_acc:.3f}") if test_acc is not None else ""
    epochs = f"{view.history[-1].epoch:.1f}"
    default_label = (tr("train.taught_save_label", names=class_list(run.data.classes), epochs=epochs, tested=tested)
                     if run.data.examples is not None else
                     tr("train.save_label", network=run.network, dataset=DATASET_NAMES[run.data.dataset],
                        epochs=epochs, tested=tested))
    name_col, save_col, replay_col, download_col = st.columns([3, 1, 1.3, 1], vertical_alignment="bottom")
    label = name_col.text_input(tr("train.name"), value=default_label, disabled=locked,
                                key=TrainState.key("save_label", view.run)).strip()
    if save_col.button(tr("train.save"), icon=":material/save:", width="stretch", disabled=locked):
        if saved := _save(state, view, label or default_label):
            st.success(tr("train.saved", label=saved))
    if view.snapshots:  # Replay opens on the Feature maps drawing if there is one: let the browser say
        nv.drawing_source("train_drawing", run.spec.input_size,
                          preprocess.FASHION_FILL if run.data.dataset == "fashion-mnist" else preprocess.MNIST_FILL)
    if view.snapshots and replay_col.button(tr("train.replay"), icon=":material/history:", width="stretch",
                                            help=tr("train.replay_help"), disabled=locked):
        if saved := _save(state, view, label or default_label):
            _open_replay(run, saved)
    download_col.download_button(tr("train.download_pt"), data=run.checkpoint(), file_name="lenet.pt",
                                 mime="application/octet-stream", icon=":material/download:", width="stretch",
                                 disabled=locked)
    if view.snapshots:
        st.caption(tr("train.snapshots", count=view.snapshots))


def main() -> None:
    state = ui.page_state(TrainState)
    run = state.run
    view = run.view() if run else None
    busy = bool(view and view.busy)
    st.title(tr("train.title"))
    ui.link_from_url("train")  # no settings of its own: only the controls a teacher's link hides or locks
    ui.show_link_notes("train")
    fixed = ui.teacher_controls("train")
    ui.share_view("train")
    st.markdown(tr("train.intro"))
    settings_col, live = st.columns([1, 2], gap="large")
    with settings_col:
        settings, ready = settings_column(state, busy, fixed)
    with live:
        live_column(state, settings, view, ready)
    compare_runs(run, view)
    if run is None or view.status in ("idle", "running"):
        return
    if view.predictions is not None and view.history:
        confusion_and_mistakes(run, view)
    if not view.busy and view.history and view.status != "diverged" and not fixed.hidden("save"):
        keep_network(state, view, fixed.locked("save"))


main()
