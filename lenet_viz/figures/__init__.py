"""Plotly figures, one module per page: ``app_pages/<name>.py`` draws with ``figures/<name>.py``.

Importing this package imports pandas and pyarrow first, whole. Plotly (and narwhals under it) do not
import them: they take ``sys.modules.get("pandas")`` as they find it, so a figure built while another
thread (a Streamlit rerun drawing a table, the server's warm-up) was half-way through importing pandas
failed with ``AttributeError: partially initialized module 'pandas'`` (issue 16). An ``import`` waits
for another thread's import of the same module to finish, so once this package is imported every
figure finds them complete, whatever else the server is doing. A page that wants to show something at
once imports its figures module after that part (``ui.need(*ui.TABLES)`` shows a spinner meanwhile).
"""

import pandas  # noqa: F401
import pyarrow  # noqa: F401
