"""What to tell a learner whose run goes wrong: a loss that blows up (diverged), a network that
gives every image the same output (stuck: dead ReLUs, saturated sigmoids), or one that has not left
chance level yet. Each message names the cause and a learning rate to try.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from lenet_viz.history import loss_text
from lenet_viz.i18n import Msg

if TYPE_CHECKING:
    from lenet_viz.training import TrainConfig

EXPLODED_LOSS = 1000.0  # a cross-entropy this high means the weights have blown up (chance level is ln 10 ≈ 2.3)
CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over 10 classes
CHANCE_MARGIN = 0.05  # a loss within this below CHANCE_LOSS counts as "at chance level"...
CHANCE_CEILING = 0.5  # ... and up to this above it (higher: the network is confidently wrong, or blown up)
DEAD_SPREAD = 1e-6  # output spread across images below which the network ignores its input
NEARLY_DEAD_SPREAD = 1e-3  # ... and below which a ReLU network at chance level is taken as stuck
FLAT_EPOCHS = 2  # epochs at chance level with a nearly dead output before a ReLU network is stopped


def default_lr(optimizer: str, activation: str) -> float:
    """A learning rate that works: the seed's 0.9 for SGD on its sigmoid LeNet, 0.1 for SGD on
    ReLU/tanh networks (0.9 kills their ReLUs), Adam's usual 0.001."""
    if optimizer == "adam":
        return 0.001
    return 0.9 if activation == "sigmoid" else 0.1


def suggested_lr(config: TrainConfig, activation: str) -> float:
    """A learning rate to try after this one failed: a tenth of it, and never above the default."""
    return min(config.lr / 10, default_lr(config.optimizer, activation))


def blown_up(loss: float) -> bool:
    """Whether a training loss says the run has diverged: not a number, infinite, or huge."""
    return not math.isfinite(loss) or loss > EXPLODED_LOSS


def divergence_message(config: TrainConfig, loss: float, epoch: float, activation: str) -> Msg:
    what = (Msg("training.loss_not_finite") if not math.isfinite(loss)
            else Msg("training.loss_far_above", loss=loss_text(loss)))
    return Msg("training.diverged", epoch=f"{epoch:.2f}", what=what, lr=f"{config.lr:g}",
               optimizer=config.optimizer_name, suggested=f"{suggested_lr(config, activation):g}")


def at_chance_level(loss: float) -> bool:
    """Whether a train loss is that of a network guessing at random (not better, nor blown up)."""
    return CHANCE_LOSS - CHANCE_MARGIN <= loss <= CHANCE_LOSS + CHANCE_CEILING


def slow_start_advice(activation: str, config: TrainConfig) -> Msg:
    """What to expect from a run whose loss has not left chance level yet."""
    if activation == "sigmoid" and config.optimizer == "sgd":
        return Msg("training.slow_start_sigmoid")
    return Msg("training.slow_start", activation=activation, optimizer=config.optimizer_name, lr=f"{config.lr:g}")


def chance_hint(loss: float, epoch: float, activation: str, config: TrainConfig) -> Msg | str:
    """The hint shown after an epoch whose loss is still at chance level ('' otherwise)."""
    if not at_chance_level(loss):
        return ""
    return Msg("training.chance_level", chance=f"{CHANCE_LOSS:.2f}", epoch=f"{round(epoch, 2):g}",
               advice=slow_start_advice(activation, config))


@torch.no_grad()
def output_spread(model: nn.Module, probe: torch.Tensor) -> float:
    """The largest standard deviation of an output across a batch of images.

    Zero means the network gives every image the same answer (all ReLUs of a layer dead): no
    gradient reaches the earlier layers, so the loss stays at chance level for good.
    """
    device = next(model.parameters()).device
    return model(probe.to(device)).std(0).max().item()


class StuckDetector:
    """Spots a run that can no longer learn although its loss stays finite (dead ReLUs).

    Stuck: the network gives every probe image the same output, or (ReLU networks only, as a
    sigmoid LeNet can sit at chance level for a few epochs and then learn) an almost identical
    output with the loss at chance level for :data:`FLAT_EPOCHS` epoch ends in a row.
    """

    def __init__(self, model: nn.Module, probe: torch.Tensor, relu: bool):
        self.model, self.probe, self.relu, self.flat_epochs = model, probe, relu, 0

    def stuck(self, epoch_loss: float | None = None) -> bool:
        """Check now; pass the epoch's train loss at the end of an epoch."""
        spread = output_spread(self.model, self.probe)
        if spread < DEAD_SPREAD:
            return True
        if epoch_loss is None or not self.relu:
            return False
        flat = spread < NEARLY_DEAD_SPREAD and epoch_loss >= CHANCE_LOSS - CHANCE_MARGIN
        self.flat_epochs = self.flat_epochs + 1 if flat else 0
        return self.flat_epochs >= FLAT_EPOCHS


def stuck_message(config: TrainConfig, epoch: float, activation: str, loss: float | None) -> Msg:
    cause = Msg("training.stuck_relu") if activation == "relu" else Msg("training.stuck_saturated")
    chance = f"{CHANCE_LOSS:.3f}"
    effect = (Msg("training.stuck_at_chance", chance=chance) if loss is None or at_chance_level(loss) else
              Msg("training.stuck_worse", loss=loss_text(loss), chance=chance))
    key = "training.stuck_or_adam" if activation == "relu" and config.optimizer == "sgd" else "training.stuck"
    return Msg(key, epoch=f"{epoch:.2f}", effect=effect, cause=cause, lr=f"{config.lr:g}",
               optimizer=config.optimizer_name, suggested=f"{suggested_lr(config, activation):g}")
