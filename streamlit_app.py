"""lenet-viz: the Streamlit entry point. Run with ``streamlit run streamlit_app.py``."""

import importlib
import sys
import threading
from pathlib import Path

import streamlit as st

from lenet_viz import ui

# A local icon: a Material icon name here would make the browser fetch it from the internet.
st.set_page_config(page_title="lenet-viz", page_icon=str(Path(__file__).parent / "assets" / "icon.png"), layout="wide")

ui.language_selector()
pages = [
    st.Page("app_pages/home.py", title=ui.tr("nav.home"), icon=":material/home:", default=True),
    st.Page("app_pages/feature_maps.py", title=ui.tr("nav.feature_maps"), icon=":material/draw:"),
    st.Page("app_pages/output_size.py", title=ui.tr("nav.output_size"), icon=":material/straighten:"),
    st.Page("app_pages/train.py", title=ui.tr("nav.train"), icon=":material/model_training:"),
]


TORCH_PAGES_NEED = "lenet_viz.checkpoints"  # imports torch and the model code, as every page but Home does


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Timer:
    """Once per server, a second after the first page is served: import torch and the model code
    while the visitor reads that page, so that the first switch to Feature maps or Train does not
    wait for them (3.9 s → 1.4–1.9 s here, benchmarks/README.md). Delayed so that it does not slow
    the first page itself on a small machine."""
    timer = threading.Timer(1.0, importlib.import_module, args=(TORCH_PAGES_NEED,))
    timer.daemon = True
    timer.start()
    return timer


warm_up()
page = st.navigation(pages)
if TORCH_PAGES_NEED not in sys.modules and page.url_path != pages[0].url_path:  # first visit, before the warm-up
    with st.spinner(ui.tr("app.loading_torch")):
        importlib.import_module(TORCH_PAGES_NEED)
page.run()
