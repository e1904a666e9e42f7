"""Activation search over Ramachandran et al.'s space (issue in progress: the space and its screen so far)."""
