"""Home: what lenet-viz is and where to start."""

import streamlit as st

from lenet_viz.ui import link_from_url, page_file, share_view, show_link_notes, teacher_controls, tr

st.title("lenet-viz")
link_from_url("home")  # no settings: only what a teacher's link hides (the page list)
show_link_notes("home")
teacher_controls("home")
st.markdown(tr("home.intro"))
left, middle, right = st.columns(3)
with left:
    st.subheader(tr("nav.feature_maps"))
    st.write(tr("home.feature_maps"))
    st.page_link(page_file("feature-maps"), label=tr("home.feature_maps_link"), icon=":material/draw:")
with middle:
    st.subheader(tr("nav.output_size"))
    st.write(tr("home.output_size"))
    st.page_link(page_file("output-size"), label=tr("home.output_size_link"), icon=":material/straighten:")
with right:
    st.subheader(tr("nav.train"))
    st.write(tr("home.train"))
    st.page_link(page_file("train"), label=tr("home.train_link"), icon=":material/model_training:")
st.page_link(page_file("replay"), label=tr("home.replay_link"), icon=":material/history:")

share_view("home")
