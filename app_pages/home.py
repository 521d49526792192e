"""Home: what lenet-viz is and where to start: a card for every page."""

import streamlit as st

from lenet_viz.ui import link_from_url, page_file, share_view, show_link_notes, teacher_controls, tr

# Every page but Home: (page id, the catalogues' nav and home key part, icon as in the navigation), three a row.
CARDS = (("feature-maps", "feature_maps", ":material/draw:"), ("output-size", "output_size", ":material/straighten:"),
         ("train", "train", ":material/model_training:"), ("teach", "teach", ":material/school:"),
         ("lessons", "lessons", ":material/quiz:"), ("replay", "replay", ":material/history:"))

st.title("lenet-viz")
link_from_url("home")  # no settings: only what a teacher's link hides (the page list)
show_link_notes("home")
teacher_controls("home")
st.markdown(tr("home.intro"))
for row in range(0, len(CARDS), 3):
    for column, (page, name, icon) in zip(st.columns(3), CARDS[row:row + 3], strict=True):
        with column:
            st.subheader(tr(f"nav.{name}"))
            st.write(tr(f"home.{name}"))
            st.page_link(page_file(page), label=tr(f"home.{name}_link"), icon=icon)

share_view("home")
