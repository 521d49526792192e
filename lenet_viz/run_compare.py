"""Compare runs: what each training run of a session was, and the legend that names what differs.

A :class:`RunRecord` keeps a finished run's settings (as short texts) and its history; the Train
page and the Training lesson both add to the session's list, and
:func:`lenet_viz.figures.train.compare_curves` overlays them. No Streamlit, no torch here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lenet_viz.history import Progress
from lenet_viz.i18n import DEFAULT_LANG, t
from lenet_viz.models import LeNetSpec
from lenet_viz.training import TrainConfig

MAX_RECORDS = 8  # the oldest run leaves the comparison beyond this many (a legend stays readable)


@dataclass(frozen=True)
class RunRecord:
    """One finished (or stopped) run: its settings by name and every progress event."""

    settings: tuple[tuple[str, str], ...]
    history: tuple[Progress, ...]

    @property
    def settings_dict(self) -> dict[str, str]:
        return dict(self.settings)


def describe_run(spec: LeNetSpec, config: TrainConfig, dataset: str, train_images: int) -> tuple[tuple[str, str], ...]:
    """The settings that can tell two runs apart, in the order a legend names them."""
    pools = "/".join(sorted({block.pool for block in spec.conv}))
    return (("dataset", dataset), ("activation", spec.activation), ("pool", pools),
            ("conv", "/".join(f"{b.out_channels}@{b.kernel}" for b in spec.conv)),
            ("optimizer", config.optimizer), ("lr", f"{config.lr:g}"), ("batch", str(config.batch_size)),
            ("images", str(train_images)), ("seed", str(config.seed)))


def legend_names(records: Sequence[RunRecord], lang: str = DEFAULT_LANG) -> list[str]:
    """Each run's name in a legend: the settings that differ between the runs (``lr=0.1, pool=max``;
    the settings' names in ``lang``), numbered ``#1``, ``#2`` … when two runs differ in none of them."""
    keys = [key for key, _ in records[0].settings] if records else []
    differing = [k for k in keys if len({r.settings_dict.get(k) for r in records}) > 1]
    names = [t("list.separator", lang).join(f"{t(f'lesson.compare.setting.{k}', lang)}={r.settings_dict.get(k)}"
                                            for k in differing) for r in records]
    return [name if name and names.count(name) == 1 else f"#{i + 1}" + (f" {name}" if name else "")
            for i, name in enumerate(names)]


def add_record(records: list[RunRecord], record: RunRecord) -> list[RunRecord]:
    """The list with ``record`` added last, keeping the newest :data:`MAX_RECORDS`."""
    return [*records, record][-MAX_RECORDS:]
