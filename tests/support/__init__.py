"""Shared test code (fakes, hand-made index content, paths): test modules import from here, never from each other."""
