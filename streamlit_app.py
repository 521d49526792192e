"""lenet-viz: the Streamlit entry point. Run with ``streamlit run streamlit_app.py``."""

from pathlib import Path

import streamlit as st

from lenet_viz import ui

# A local icon: a Material icon name here would make the browser fetch it from the internet.
st.set_page_config(page_title="lenet-viz", page_icon=str(Path(__file__).parent / "assets" / "icon.png"), layout="wide")

ui.language_selector()
pages = {
    "home": st.Page(ui.page_file("home"), title=ui.tr("nav.home"), icon=":material/home:", default=True),
    "feature-maps": st.Page(ui.page_file("feature-maps"), title=ui.tr("nav.feature_maps"), icon=":material/draw:"),
    "output-size": st.Page(ui.page_file("output-size"), title=ui.tr("nav.output_size"), icon=":material/straighten:"),
    "train": st.Page(ui.page_file("train"), title=ui.tr("nav.train"), icon=":material/model_training:"),
    "replay": st.Page(ui.page_file("replay"), title=ui.tr("nav.replay"), icon=":material/history:"),
    "lessons": st.Page(ui.page_file("lessons"), title=ui.tr("nav.lessons"), icon=":material/quiz:"),
    "teach": st.Page(ui.page_file("teach"), title=ui.tr("nav.teach"), icon=":material/school:"),
}
# What a page needs imported before its script starts (ui.HEAVY: torch; plotly figures with pandas and
# pyarrow), under a spinner. Home needs none; Output size draws its controls and formulas at once and
# calls ui.need(*ui.TABLES) itself before its figure and table; Feature maps draws its pad first and
# loads torch and the model below it, then its figures below the view. A page moves to () once it
# imports what it needs after what it can show without it, so that it shows that at once.
NEEDS_FIRST = {"home": (), "output-size": (), "feature-maps": (), "train": ui.HEAVY, "replay": ui.HEAVY,
               "lessons": ui.HEAVY, "teach": ui.HEAVY}

page = st.navigation(list(pages.values()))
ui.need(*next(NEEDS_FIRST[pid] for pid, p in pages.items() if p is page))  # compared as objects: titles get translated
try:
    page.run()
finally:  # also after st.stop() or a rerun: this page's elements are on their way
    ui.warm_up()
