"""lenet-viz: a visual explorer for LeNet, the first convolutional network that worked.

The library behind the Streamlit app, usable without it: convolution arithmetic
(:mod:`~lenet_viz.arithmetic`), the network (:mod:`~lenet_viz.models`), data
(:mod:`~lenet_viz.data`), training (:mod:`~lenet_viz.training`), checkpoints
(:mod:`~lenet_viz.checkpoints`) and the command line (:mod:`~lenet_viz.cli`).
"""

__version__ = "0.1.0"
