"""The CNN inspector's probe jobs: run on the probe thread (ProbeRunner),
plain data in and out. Each ``*_job`` returns ``fn(context)`` for
ProbeRunner.submit; torch and the probes are imported inside it."""

from __future__ import annotations

import json

import numpy as np

TOP_K = 9  # images shown per channel


def model_key(run, spec) -> str:
    return json.dumps(
        [run.name, run.created, id(run.weights), spec.to_dict()],
        sort_keys=True,
        default=str,
    )


def filters_job(key, spec, weights):
    def job(ctx):
        from playground.core.probes import conv_filters, conv_layers

        model = ctx.model(key, spec, weights)
        return [
            (info.name, info.path, info.out_channels, conv_filters(model, info))
            for info in conv_layers(spec, model)
        ]

    return job


def network_input(image: np.ndarray, shape, invert: bool, dataset) -> np.ndarray:
    """The lab's image as the network takes it: gray (or RGB) like the data,
    resized to its height and width, 0..1 like the digits (light ink on dark
    with ``invert``), standardised where the dataset is."""
    from PIL import Image

    from playground.core.filters.images import to_gray

    channels, h, w = shape
    a = np.asarray(image, np.float32)
    a = to_gray(a) if channels == 1 else (a if a.shape[0] == 3 else np.repeat(a, 3, 0))
    out = np.empty((channels, h, w), np.float32)
    for c in range(channels):
        # pillow's bilinear resize averages when it shrinks, so nothing aliases
        out[c] = np.asarray(
            Image.fromarray(np.ascontiguousarray(a[c]), mode="F").resize(
                (w, h), Image.BILINEAR
            )
        )
    out = np.clip(out, 0.0, 1.0)
    if invert:
        out = 1.0 - out
    stats = getattr(dataset, "standardization", None)
    if stats is not None:
        out = ((out.reshape(-1) - stats["mean"]) / stats["std"]).reshape(out.shape)
    return out.astype(np.float32)


def input_job(key, spec, weights, dataset_ref, source, index, image, invert):
    def job(ctx):
        from playground.core.probes import feature_maps, grad_cam, saliency

        model = ctx.model(key, spec, weights)
        data = ctx.dataset(dataset_ref["name"], dict(dataset_ref.get("options", {})))
        label = None
        if source == "example":
            i = int(np.clip(index, 0, len(data.x_val) - 1))
            x = data.x_val[i]
            label = int(data.y_val[i]) if data.num_classes else None
        else:
            if len(spec.input_shape) != 3:
                raise ValueError("this network does not take images")
            x = network_input(image, spec.input_shape, invert, data)
        maps = feature_maps(model, x)
        sal, predicted, probabilities = saliency(model, x)
        cam, _ = grad_cam(model, x)
        return {
            "x": np.asarray(x, np.float32),
            "label": label,
            "count": len(data.x_val),
            "class_names": list(data.class_names),
            "maps": [(m.name, m.maps) for m in maps],
            "saliency": sal,
            "grad_cam": cam,
            "predicted": predicted,
            "probabilities": probabilities,
        }

    return job


def top_job(key, spec, weights, dataset_ref, path, channel):
    def job(ctx):
        from playground.core.probes import top_activating

        model = ctx.model(key, spec, weights)
        data = ctx.dataset(dataset_ref["name"], dict(dataset_ref.get("options", {})))
        indices, scores = top_activating(model, path, channel, data.x_val, k=TOP_K)
        return {
            "images": data.x_val[indices].copy(),
            "indices": indices,
            "scores": scores,
            "labels": [int(v) for v in data.y_val[indices]] if data.num_classes else [],
            "class_names": list(data.class_names),
            "path": path,
            "channel": channel,
        }

    return job
