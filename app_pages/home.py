"""Home: what lenet-viz is and where to start."""

import streamlit as st

st.title("lenet-viz")
st.markdown(
    "See how **LeNet**, the first convolutional network that worked, turns a drawing into a prediction. "
    "Everything runs here, offline, on the bundled models; nothing to install or train first."
)
left, middle, right = st.columns(3)
with left:
    st.subheader("Feature maps")
    st.write("Draw a digit (or pick a clothing image) and watch every layer of the network respond.")
    st.page_link("app_pages/feature_maps.py", label="Draw a digit", icon=":material/draw:")
with middle:
    st.subheader("Output size")
    st.write("Play with kernel size, stride, padding and dilation; see the formula and the sliding window.")
    st.page_link("app_pages/output_size.py", label="Explore the arithmetic", icon=":material/straighten:")
with right:
    st.subheader("Train")
    st.write("Train LeNet on Fashion-MNIST or MNIST and watch the loss and accuracy curves live.")
    st.page_link("app_pages/train.py", label="Train a network", icon=":material/model_training:")
st.page_link("app_pages/replay.py", label="Training replay: scrub through a run and watch the network learn",
             icon=":material/history:")

# Shareable link (issue 17), last: lenet_viz.ui imports torch, which the server's warm-up loads meanwhile.
from lenet_viz import ui  # noqa: E402

ui.share_view("home")
