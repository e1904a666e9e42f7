"""Datasets: the planar generators, real data (MNIST-1D, scikit-learn) with their splits, and the
sequence and toy tasks of the noise study."""
