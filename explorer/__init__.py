"""CNN Explorer: see, train and compare convolutional networks on EMNIST letters."""

__version__ = "0.1.0"
