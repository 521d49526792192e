"""lenet-viz: the Streamlit entry point. Run with ``streamlit run streamlit_app.py``."""

import streamlit as st

st.set_page_config(page_title="lenet-viz", page_icon=":material/grid_on:", layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/feature_maps.py", title="Feature maps", icon=":material/draw:"),
    st.Page("app_pages/output_size.py", title="Output size", icon=":material/straighten:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
]
st.navigation(pages).run()
