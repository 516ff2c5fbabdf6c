"""Read a trained model: filters, feature maps, attributions -> numpy.

Nothing here imports torch until a probe runs, so listing what can be probed
costs nothing at start-up.
"""

from playground.core.probes.cnn import (
    ConvLayerInfo,
    FeatureMaps,
    conv_filters,
    conv_layers,
    feature_maps,
    grad_cam,
    saliency,
    top_activating,
)
from playground.core.probes.model import ProbeError

__all__ = [
    "ConvLayerInfo",
    "FeatureMaps",
    "ProbeError",
    "conv_filters",
    "conv_layers",
    "feature_maps",
    "grad_cam",
    "saliency",
    "top_activating",
]
