"""Home in AppTest: a card for every page (its name, what it does and a link to it), in English and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lenet_viz import links
from lenet_viz.i18n import t

APP = str(Path(__file__).resolve().parents[2] / "streamlit_app.py")
PAGES = {"feature-maps": "feature_maps", "output-size": "output_size", "train": "train", "teach": "teach",
         "lessons": "lessons", "replay": "replay"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_home_has_a_card_and_a_link_for_every_page(lang):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception
    assert set(PAGES) == set(links.PAGE_PATHS) - {"home"}  # a new page needs a card here too
    headings = [h.value for h in at.subheader]
    words = "\n".join(m.value for m in at.markdown)
    targets = {e.proto.page.removesuffix(".py").rpartition("/")[2]: e.proto.label for e in at.get("page_link")}
    for page, name in PAGES.items():
        assert t(f"nav.{name}", lang) in headings
        assert t(f"home.{name}", lang) in words
        assert targets[links.PAGE_PATHS[page]] == t(f"home.{name}_link", lang), targets
