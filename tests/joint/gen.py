"""Seeded tiny joint instances (the generator lives in splitopt.families.joint_tiny)."""

from splitopt.families.joint_tiny import loguniform, tiny_joint

__all__ = ["loguniform", "tiny_joint"]
