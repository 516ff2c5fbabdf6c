"""Networks a new project starts from, and templates: a network with a dataset
and settings it trains well on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


# -- templates: a network with a dataset and settings it trains well on ----------------
def _dense(sizes, act="Tanh") -> tuple[LayerSpec, ...]:
    layers = []
    for size in sizes:
        layers += [LayerSpec("Linear", {"out_features": size}), LayerSpec(act, {})]
    return tuple(layers)


def _conv(channels: int, kernel: int = 3, padding: int = 1, bias: bool = True):
    args = {"out_channels": channels, "kernel_size": kernel, "padding": padding}
    if not bias:
        args["bias"] = False
    return LayerSpec("Conv2d", args)


def _perceptron() -> NetworkSpec:
    return NetworkSpec(
        input_shape=(2,),
        layers=(LayerSpec("Linear", {"out_features": 1}),),
        name="Perceptron",
    )


def _deep_mlp() -> NetworkSpec:
    return NetworkSpec(
        input_shape=(2,),
        layers=(*_dense([16, 16, 16]), LayerSpec("Linear", {"out_features": 1})),
        name="Deep MLP (3 x 16 tanh)",
    )


def _lenet5() -> NetworkSpec:
    # LeCun et al. 1998 on 32x32 inputs: 6@28x28, pool, 16@10x10, pool, 120, 84, 10
    return NetworkSpec(
        input_shape=(1, 32, 32),
        layers=(
            _conv(6, 5, 0), LayerSpec("Tanh", {}),
            LayerSpec("AvgPool2d", {"kernel_size": 2}),
            _conv(16, 5, 0), LayerSpec("Tanh", {}),
            LayerSpec("AvgPool2d", {"kernel_size": 2}),
            LayerSpec("Flatten", {}),
            *_dense([120, 84]),
            LayerSpec("Linear", {"out_features": 10}),
        ),
        name="LeNet-5",
    )


def _small_vgg() -> NetworkSpec:
    pool = LayerSpec("MaxPool2d", {"kernel_size": 2})
    relu = LayerSpec("ReLU", {})
    return NetworkSpec(
        input_shape=(1, 32, 32),
        layers=(
            _conv(16), relu, _conv(16), relu, pool,
            _conv(32), relu, _conv(32), relu, pool,
            _conv(64), relu, pool,
            LayerSpec("Flatten", {}),
            LayerSpec("Linear", {"out_features": 128}), relu,
            LayerSpec("Dropout", {"p": 0.3}),
            LayerSpec("Linear", {"out_features": 10}),
        ),
        name="Small VGG",
    )


def _resnet() -> NetworkSpec:
    relu = LayerSpec("ReLU", {})
    bn = LayerSpec("BatchNorm2d", {})

    def block():
        return LayerSpec(
            "Residual", {}, (_conv(16, bias=False), bn, relu, _conv(16, bias=False), bn)
        )

    return NetworkSpec(
        input_shape=(1, 32, 32),
        layers=(
            _conv(16, bias=False), bn, relu,
            block(), relu,
            LayerSpec("MaxPool2d", {"kernel_size": 2}),
            block(), relu,
            LayerSpec("AdaptiveAvgPool2d", {"output_size": 1}),
            LayerSpec("Flatten", {}),
            LayerSpec("Linear", {"out_features": 10}),
        ),
        name="ResNet-style CNN",
    )


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    build: Callable[[], NetworkSpec]
    dataset: str
    dataset_options: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)

    def spec(self) -> NetworkSpec:
        return self.build()


DIGITS_32 = {"image_size": 32}
TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "perceptron", "Perceptron",
            "One neuron: a weighted sum of the inputs and a bias, squashed by a "
            "sigmoid in the loss. It draws one straight line, enough for two "
            "Gaussian clouds and nothing rounder.",
            _perceptron, "gaussian", {"noise": 10},
            {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10, "epochs": 50},
        ),
        Template(
            "tfp-default", "MLP (TensorFlow Playground default)",
            "TensorFlow Playground's opening network: two inputs, hidden layers of "
            "4 and 2 tanh neurons, one output, on the circle data.",
            default_spec, "circle", {},
            {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10, "epochs": 200},
        ),
        Template(
            "deep-mlp", "Deep MLP (spiral)",
            "Three hidden layers of 16 tanh neurons: deep enough to wind a "
            "boundary around TensorFlow Playground's spiral.",
            _deep_mlp, "spiral", {},
            {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 10, "epochs": 300},
        ),
        Template(
            "lenet5", "LeNet-5 (digits at 32x32)",
            "LeCun's 1998 convolutional network: two convolution and pooling "
            "stages, then 120, 84 and 10 units; on the digits scaled to 32x32.",
            _lenet5, "digits", DIGITS_32,
            {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 15},
        ),
        Template(
            "small-vgg", "Small VGG-style CNN",
            "Stacks of 3x3 convolutions with max pooling in between, as in VGG, "
            "then a dense head with dropout; on the digits at 32x32.",
            _small_vgg, "digits", DIGITS_32,
            {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 10},
        ),
        Template(
            "resnet", "ResNet-style CNN",
            "Residual blocks (two convolutions whose output is added to their "
            "input) with batch normalisation; on the digits at 32x32.",
            _resnet, "digits", DIGITS_32,
            {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 10},
        ),
    )
}
