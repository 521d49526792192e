"""lenet-viz: the Streamlit entry point. Run with ``streamlit run streamlit_app.py``."""

from pathlib import Path

import streamlit as st

# A local icon: a Material icon name here would make the browser fetch it from the internet.
st.set_page_config(page_title="lenet-viz", page_icon=str(Path(__file__).parent / "assets" / "icon.png"), layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/feature_maps.py", title="Feature maps", icon=":material/draw:"),
    st.Page("app_pages/output_size.py", title="Output size", icon=":material/straighten:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
]
st.navigation(pages).run()
