"""Plotly figures, one module per page: ``app_pages/<name>.py`` draws with ``figures/<name>.py``."""
