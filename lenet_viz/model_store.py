"""Where models come from: the bundled defaults in ``assets/models`` and checkpoints a user saved.

Bundled models are files shipped with the app, described in ``assets/models/models.json``.
Saved models belong to one browser session (a hosted demo never shows one user's model to
another): the app keeps them as checkpoint bytes in that session's state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "assets"
MODELS_DIR = ASSETS / "models"
SAMPLES_DIR = ASSETS / "samples"


@dataclass(frozen=True)
class BundledModel:
    """One entry of ``assets/models/models.json``."""

    key: str
    label: str
    path: Path
    dataset: str
    description: str


def bundled_models() -> list[BundledModel]:
    """The bundled models whose files are present, default first."""
    index = MODELS_DIR / "models.json"
    if not index.exists():
        return []
    entries = json.loads(index.read_text())["models"]
    models = [BundledModel(e["key"], e["label"], MODELS_DIR / e["file"], e["dataset"], e["description"])
              for e in entries]
    return [m for m in models if m.path.exists()]
