"""Teach (教它认新符号): the learner's own classes, drawn and trained in the browser, then kept.

The drawing, the training and the live view of the taught network all run in the page
(``lenet_viz.teach_component``); this script offers the zip restore and shows what a restore or a
Save left to say, and the sidebar's link box (the link opens the page: what the learner drew stays in
their browser).
"""

import streamlit as st

from lenet_viz import teach_component as tc
from lenet_viz import ui
from lenet_viz.ui import tr

lang = ui.lang()
st.title(tr("teach.title"))
st.caption(tr("teach.intro"))
ui.link_from_url("teach")  # no link view: only what a teacher's link hides (the page list)
ui.show_link_notes("teach")
ui.teacher_controls("teach")
ui.share_view("teach", private=tr("link.private_teach"))  # the page; the drawings are the browser's
with st.expander(tr("teach.restore")):
    st.file_uploader(tr("teach.zip_file"), key=tc.FILE, on_change=tc.restore_upload)  # any file: a wrong one is told
if said := tc.notice():
    kind, text = said
    {"error": st.error, "warning": st.warning}.get(kind, st.success)(text)
tc.teach_view(lang)
