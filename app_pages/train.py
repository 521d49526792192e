"""Train: LeNet on Fashion-MNIST or MNIST in the browser, with d2l's live curves."""

import os
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from lenet_viz import ui
from lenet_viz.checkpoints import CheckpointError, check_upload
from lenet_viz.data import DATA_ENV, DataNotFound, load_dataset, locate
from lenet_viz.models import PRESETS, SpecError, describe, layer_plan
from lenet_viz.train_figures import confusion_figure, live_curves, misclassified_figure
from lenet_viz.training import TrainConfig, default_lr, describe_device, last_test_acc, loss_text, pick_device
from lenet_viz.training_session import (
    SLOTS,
    RunRefused,
    TrainingSession,
    available_devices,
    load_run_data,
    max_runs,
    preset_name,
    remaining_s,
    trainable_problem,
)

SESSION, NOTICE = "training_session", "train_notice"
MAX_EPOCHS = 50  # also bounds how long the run of a closed tab can go on
DATASET_NAMES = {"fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}
NETWORKS = {
    "classic": "classic: the seed's LeNet (sigmoid, average pooling)",
    "modern": "modern: ReLU and max pooling",
    "seed-nopad": "seed-nopad: no padding, max pooling",
    "custom": "custom: built on the Output size page",
}
OPTIMIZERS = {"sgd": "SGD", "adam": "Adam"}


def kept(key: str, default: Any, options: list | None = None) -> dict[str, Any]:
    """Widget kwargs that keep its value while the user is on other pages."""
    store = f"_{key}"
    value = st.session_state.get(store, default)
    st.session_state[key] = default if options is not None and value not in options else value

    def remember() -> None:
        st.session_state[store] = st.session_state[key]

    return {"key": key, "on_change": remember}


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
    """A message shown once, on the next run of the page."""
    st.session_state[NOTICE] = (kind, text)


def refuse_while_busy() -> None:
    """One run per browser session: a second click while a run goes on only says so."""
    current = st.session_state.get(SESSION)
    if current is not None and current.snapshot().busy:
        notice("warning", "A run is still going on in this session: stop it first.")
        st.rerun()


def start(fresh: bool) -> None:
    refuse_while_busy()
    try:
        if fresh:
            data = load_run_data(dataset, data_dir, subset if use_subset else None)
            run = TrainingSession(spec, data, network)
        else:
            run = session
        run.start(config, fresh=fresh, is_alive=alive_check())
        st.session_state[SESSION] = run
    except (DataNotFound, RunRefused, ValueError) as exc:
        notice("error", str(exc))
    st.rerun()


def load_to_continue(data: bytes, uploaded: bool) -> None:
    """Make a saved or uploaded network the current one, so that Continue trains it further."""
    refuse_while_busy()
    try:
        if uploaded:
            check_upload(data)
        ckpt = ui.load_saved(data)
        name = preset_name(ckpt.spec) or "custom"
        run_data = load_run_data(dataset, data_dir, subset if use_subset else None)
        run = TrainingSession.from_checkpoint(ckpt, run_data, name)
    except (CheckpointError, DataNotFound, RunRefused, ValueError) as exc:
        notice("error", str(exc))
    else:
        if name == "custom":
            st.session_state[ui.CUSTOM_SPEC] = ckpt.spec.to_dict()
        st.session_state[ui.TRAIN_NETWORK] = name  # the Network box shows it on the next run
        st.session_state[SESSION] = run
        notice("success", f"Loaded a {name} network after {run.snapshot().history[-1].epoch:.1f} epochs: "
               "press Continue to train it further." if run.snapshot().history else
               f"Loaded a {name} network: press Continue to train it further.")
    st.rerun()


session: TrainingSession | None = st.session_state.get(SESSION)
snap = session.snapshot() if session else None
busy = bool(snap and snap.busy)

st.title("Train LeNet")
st.markdown("Train a LeNet as the seed's `train_ch6` does and watch d2l's three curves grow, live. "
            "**Start** trains a fresh network; **Continue** trains the current one further.")

settings, live = st.columns([1, 2], gap="large")
with settings:
    dataset = st.selectbox("Dataset", list(DATASET_NAMES), format_func=DATASET_NAMES.get, disabled=busy,
                           **kept("train_dataset", "fashion-mnist"))
    data_dir = st.text_input(f"{DATASET_NAMES[dataset]} data folder", disabled=busy, placeholder="standard places",
                             help=f"A folder with the train/t10k idx3 and idx1 files (default: ${DATA_ENV}).",
                             **kept(f"train_data_dir_{dataset}", os.environ.get(DATA_ENV, ""))).strip()
    use_subset = st.checkbox("Quick run on a subset of the training images", disabled=busy,
                             **kept("train_use_subset", False))
    subset = int(st.number_input("Training images", min_value=100, max_value=60000, step=1000,
                                 disabled=busy or not use_subset, **kept("train_subset", 5000)))
    try:
        custom = ui.custom_spec()
    except SpecError as exc:
        custom = None
        st.warning(f"The network of the Output size page cannot be built: {exc}")
    networks = [n for n in NETWORKS if n != "custom" or custom]
    network = st.selectbox("Network", networks, format_func=NETWORKS.get, disabled=busy,
                           **kept(ui.TRAIN_NETWORK.removeprefix("_"), "classic", networks))
    spec = custom if network == "custom" else PRESETS[network]
    st.caption(f"{describe(spec)} · {layer_plan(spec).total_params:,} parameters")
    optimizer = st.radio("Optimizer", list(OPTIMIZERS), format_func=OPTIMIZERS.get, horizontal=True, disabled=busy,
                         **kept("train_optimizer", "sgd"))
    lr_start = default_lr(optimizer, spec.activation)
    lr = st.number_input("Learning rate", min_value=1e-6, step=0.1 if optimizer == "sgd" else 0.0005, format="%g",
                         disabled=busy,
                         help="Too high and the run diverges or gets stuck: the page then says so and "
                              "suggests a lower one.",
                         **kept(f"train_lr_{optimizer}_{spec.activation}", lr_start))
    batch_size = st.select_slider("Batch size", [16, 32, 64, 128, 256, 512, 1024], disabled=busy,
                                  **kept("train_batch_size", 256))
    epochs = int(st.number_input("Epochs", min_value=1, max_value=MAX_EPOCHS, disabled=busy,
                                 **kept("train_epochs", 10)))
    device = st.selectbox("Device", available_devices(), disabled=busy, **kept("train_device", "auto"))
    st.caption(f"auto picks **{describe_device(pick_device('auto'))}** here. "
               f"Server: {SLOTS.active} of {max_runs()} training run(s) going on.")

    config = TrainConfig(epochs=epochs, lr=float(lr), batch_size=int(batch_size), optimizer=optimizer, device=device)
    problem = trainable_problem(spec)

    try:
        found = locate(dataset, data_dir or None)[0]
    except DataNotFound as exc:
        found = None
        with st.container(border=True):
            st.warning(f"{DATASET_NAMES[dataset]} is not on this machine.")
            st.code(str(exc), language=None, wrap_lines=True)
            st.markdown("Type a folder above, or download it (needs internet), here or in a terminal:")
            st.code(f'python -c "from lenet_viz.data import download; download(\'{dataset}\')"', language="bash")
            if st.button("Download with torchvision", disabled=busy):
                with st.spinner(f"Downloading {DATASET_NAMES[dataset]}…"):
                    try:
                        load_dataset(dataset, data_dir or None, allow_download=True)
                        notice("success", f"Downloaded {DATASET_NAMES[dataset]}.")
                    except Exception as exc:  # noqa: BLE001 - offline, proxy, disk: all reported the same way
                        notice("error", f"The download failed ({type(exc).__name__}: {exc}). Are you offline? "
                               "Copy the four IDX files into a folder and type it above.")
                st.rerun()
    else:
        st.caption(f"{DATASET_NAMES[dataset]} found in `{found}`.")
    if problem:
        st.warning(problem)

    with st.expander("Continue training a saved network"):
        stored = ui.saved_models()
        pick = st.selectbox("Saved in this session", list(stored), index=None, key="train_resume_pick",
                            placeholder="none saved yet" if not stored else "choose one", disabled=busy or not stored)
        upload = st.file_uploader("…or a checkpoint file (.pt)", type=["pt", "pth"], key="train_resume_file",
                                  disabled=busy)
        st.caption("It trains on the dataset chosen above, which must be the one it was trained on.")
        if st.button("Load, then press Continue", icon=":material/upload:", disabled=busy or not (pick or upload)):
            load_to_continue(upload.getvalue() if upload else stored[pick], upload is not None)



def draw_live(run: TrainingSession, polling: bool, phase: tuple) -> None:
    now = run.snapshot()
    if polling and now.phase != phase:
        st.rerun()  # the run stopped, or its results are ready: redraw the whole page
    current, last = now.current, (now.history[-1] if now.history else None)
    if now.running and current and last:
        label = "stopping…" if now.stop_requested else f"epoch {last.epoch:.2f} of {now.end_epoch:g}"
        st.progress(min(current.step / current.total_steps, 1.0), text=label)
    elif now.running:
        st.progress(0.0, text="starting…")
    if last:
        test = last_test_acc(now.history)
        cells = [*st.columns(3), *st.columns(3)]
        cells[0].metric("train loss", loss_text(last.train_loss))
        cells[1].metric("train acc", f"{last.train_acc:.3f}")
        cells[2].metric("test acc", f"{test:.3f}" if test is not None else "–")
        cells[3].metric("examples/sec", f"{last.examples_per_sec:,.0f}")
        cells[4].metric("elapsed", clock(last.elapsed_s))
        cells[5].metric("remaining", clock(remaining_s(current) if now.running and current else None))
    if last or now.running:
        x_end = now.end_epoch if now.running or not last else last.epoch
        st.plotly_chart(live_curves(now.history, x_end), width="stretch", key="train_curves")
    if now.hint and now.status in ("running", "finished", "stopped"):
        st.info(now.hint, icon=":material/lightbulb:")


with live:
    same_model = bool(session and session.data.dataset == dataset and session.network == network
                      and session.spec.to_dict() == spec.to_dict())  # by value: a module reload makes new classes
    b1, b2, b3, _ = st.columns([1, 1, 1, 1.5])
    if b1.button("Start", type="primary", icon=":material/play_arrow:", width="stretch",
                 disabled=busy or found is None or bool(problem)):
        start(fresh=True)
    if b2.button("Stop", icon=":material/stop:", width="stretch", disabled=not (snap and snap.running)
                 or snap.stop_requested):
        session.stop()
        st.rerun()
    if b3.button("Continue", icon=":material/fast_forward:", width="stretch",
                 disabled=busy or not same_model or not (snap.history or snap.resumed) or snap.status == "diverged",
                 help=f"Train the current network {epochs} more epoch(s) with these settings."):
        start(fresh=False)
    if NOTICE in st.session_state:  # what the last click did, next to the buttons
        kind, text = st.session_state.pop(NOTICE)
        getattr(st, kind)(text)
    if session:
        st.subheader(f"{session.network} on {len(session.data.train[0]):,} "
                     f"{DATASET_NAMES[session.data.dataset]} images")
        st.fragment(run_every=0.5 if busy else None)(draw_live)(session, busy, snap.phase)
    else:
        st.info("Press **Start**: the loss and accuracy curves grow here while the network trains, and the "
                "confusion matrix and the test images it gets wrong follow below.", icon=":material/show_chart:")

if session and snap.status not in ("idle", "running"):
    with live:  # how the run ended, under its curves
        {"finished": st.success, "stopped": st.info}.get(snap.status, st.error)(snap.message)
        if snap.summary and snap.status != "error":
            st.code(snap.summary, language=None)
        if snap.busy:
            st.info("Computing the test-set predictions for the confusion matrix…", icon=":material/hourglass_top:")
    if snap.predictions is not None and snap.history:
        labels, classes = session.data.test[1], session.data.classes
        st.markdown("**Confusion matrix** (test set)")
        st.plotly_chart(confusion_figure(labels, snap.predictions, classes), width="stretch")
        st.markdown("**Misclassified test images** (true → predicted)")
        figure = misclassified_figure(session.data.test[0], labels, snap.predictions, classes)
        if figure is None:
            st.write("None: every test image is classified correctly.")
        else:
            st.plotly_chart(figure, width="stretch")
    if not snap.busy and snap.history and snap.status != "diverged":
        st.markdown("**Keep this network**")
        test_acc = last_test_acc(snap.history)
        tested = f" · test {test_acc:.3f}" if test_acc is not None else ""
        default_label = (f"{session.network} · {DATASET_NAMES[session.data.dataset]} · "
                         f"{snap.history[-1].epoch:.1f} epochs{tested}")
        name_col, save_col, download_col = st.columns([3, 1, 1], vertical_alignment="bottom")
        label = name_col.text_input("Name", value=default_label, key=f"train_save_label_{snap.run}").strip()
        if save_col.button("Save", icon=":material/save:", width="stretch"):
            saved = ui.add_saved_model(label or default_label, session.checkpoint())
            st.success(f"Saved as “{saved}”: the Feature maps page lists it.")
        download_col.download_button("Download .pt", data=session.checkpoint(), file_name="lenet.pt",
                                     mime="application/octet-stream", icon=":material/download:", width="stretch")
