"""lenet-viz: the Streamlit entry point. Run with ``streamlit run streamlit_app.py``."""

import importlib
import threading
from dataclasses import dataclass, field
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
    st.Page("app_pages/replay.py", title=ui.tr("nav.replay"), icon=":material/history:"),
    st.Page("app_pages/lessons.py", title=ui.tr("nav.lessons"), icon=":material/quiz:"),
    st.Page("app_pages/teach.py", title=ui.tr("nav.teach"), icon=":material/school:"),
]
HOME = pages[0]  # the one page that needs none of the heavy imports (compared as an object: titles get translated)

# What every page but Home needs: torch and the model code (lenet_viz.checkpoints; lenet_viz.ui, which
# the language selector needs on every page, leaves them to the first function that loads a model),
# and the pandas and pyarrow that Streamlit's tables and plotly's figures use.
PAGE_IMPORTS = ("lenet_viz.checkpoints", "pandas", "pyarrow")


@dataclass
class PageImports:
    """The pages' heavy imports, done once per server by one thread at a time.

    Python makes a second thread wait for a module another thread is importing, but plotly does not
    ask Python: it takes ``sys.modules.get("pandas")`` as it is. Streamlit runs a rerun in a new
    thread while the old one finishes what it was doing (``runner.fastReruns``), so a quick page
    switch could build a figure while the old run was half-way through importing pandas for a table:
    ``AttributeError: partially initialized module 'pandas'`` (issue 16). Under this lock the
    imports finish before any page but Home runs.
    """

    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)

    def load(self) -> None:
        with self.lock:
            for name in PAGE_IMPORTS:
                importlib.import_module(name)
            self.done.set()


@st.cache_resource(show_spinner=False)
def page_imports() -> PageImports:
    """The server's one :class:`PageImports`, and its warm-up: a second after the first page is
    served, import in the background while the visitor reads that page, so that the first switch
    to another page does not wait for them (3.9 s → 1.4–1.9 s here, benchmarks/README.md). Delayed
    so that it does not slow the first page itself on a small machine."""
    imports = PageImports()
    timer = threading.Timer(1.0, imports.load)
    timer.daemon = True
    timer.start()
    return imports


imports = page_imports()
page = st.navigation(pages)
if page is not HOME and not imports.done.is_set():  # a first visit before the warm-up is done
    with st.spinner(ui.tr("app.loading_torch")):
        imports.load()
page.run()
