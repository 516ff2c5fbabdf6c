"""Networks a new project starts from."""

from __future__ import annotations

from pathlib import Path

from playground.core.resources import networks_dir
from playground.core.spec import LayerSpec, NetworkSpec


def default_spec() -> NetworkSpec:
    """TensorFlow Playground's opening network: 2 inputs, 4 and 2 tanh units."""
    return NetworkSpec(
        input_shape=(2,),
        layers=(
            LayerSpec("Linear", {"out_features": 4}),
            LayerSpec("Tanh", {}),
            LayerSpec("Linear", {"out_features": 2}),
            LayerSpec("Tanh", {}),
            LayerSpec("Linear", {"out_features": 1}),
        ),
        name="TensorFlow Playground default",
    )


def example_networks() -> dict[str, Path]:
    """The bundled example specs (resources/networks/*.json) by file stem."""
    folder = networks_dir()
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json"))}


def adapt_to_dataset(spec: NetworkSpec, input_shape, output_size: int) -> NetworkSpec:
    """Make a network fit a dataset: new input shape, last Linear resized,
    and a Flatten in front when images meet a dense first layer."""
    layers = list(spec.layers)
    if len(input_shape) > 1 and layers and layers[0].type == "Linear":
        layers.insert(0, LayerSpec("Flatten", {}))
    for i in range(len(layers) - 1, -1, -1):
        if layers[i].type == "Linear":
            args = dict(layers[i].args)
            args["out_features"] = int(output_size)
            layers[i] = LayerSpec("Linear", args)
            break
    else:
        if len(input_shape) > 1:
            layers.append(LayerSpec("Flatten", {}))
        layers.append(LayerSpec("Linear", {"out_features": int(output_size)}))
    return NetworkSpec(input_shape=tuple(input_shape), layers=tuple(layers), name=spec.name)
