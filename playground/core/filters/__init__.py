"""The convolution filter lab's core: kernels, convolution, images, explanations.

Kept free of imports so each module (and the learn-a-filter module written
beside them) loads only what it needs; import the modules directly.
"""
