"""Reading attention out of a model: the blocks' own maps, and Grad-CAM.

`maps(model, images)` returns every attention block's maps, keyed
"<layer name>/<kind>", e.g. "spatial_gate/spatial", "self_attention/scores",
"cbam_1/channel" (kinds as in `attnlab.layers`):

- spatial: (N, H, W) sigmoid maps in [0, 1];
- channel: (N, C) channel weights (sigmoid in [0, 1], except the hybrid's
  layer-normalised weights);
- scores: (N, heads, H*W, H*W) self-attention scores, rows sum to 1.

`grad_cam(model, images)` works for every variant, attention or not.
"""

import keras
import numpy as np
import tensorflow as tf

from attnlab.layers import AttentionBlock


def attention_blocks(model):
    """The model's attention blocks, in the order they are applied."""
    return [layer for layer in model.layers if isinstance(layer, AttentionBlock)]


def maps(model, images, batch_size=64):
    """Every attention block's maps for `images`, keyed "<layer name>/<kind>".

    Returns an empty dict for a model without attention blocks. Arrays are
    float32 numpy arrays with the batch dimension first.
    """
    blocks = attention_blocks(model)
    if not blocks:
        return {}
    block_inputs = keras.Model(model.input, [block.input for block in blocks])
    collected = {}
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start : start + batch_size], dtype="float32")
        for block, block_input in zip(blocks, _as_list(block_inputs(batch)), strict=True):
            for kind, value in block.attention_maps(block_input).items():
                collected.setdefault(f"{block.name}/{kind}", []).append(_to_numpy(value))
    return {key: np.concatenate(parts) for key, parts in collected.items()}


def last_conv_layer(model):
    """The model's last top-level Conv2D layer (convs inside attention blocks excluded)."""
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise ValueError(f"Model {model.name!r} has no Conv2D layer")
    return convs[-1]


def grad_cam(model, images, layer=None):
    """Grad-CAM heat maps (Selvaraju et al. 2017) for the predicted class.

    Args:
        model: a Functional classifier.
        images: array (N, H, W, C).
        layer: the conv layer (object or name) to explain; default
            `last_conv_layer(model)`.

    Returns:
        float32 array (N, H, W) in [0, 1], resized to the input size; all
        zeros where the gradient gives no positive evidence.
    """
    if layer is None:
        layer = last_conv_layer(model)
    elif isinstance(layer, str):
        layer = model.get_layer(layer)
    images = tf.convert_to_tensor(np.asarray(images, dtype="float32"))
    explainer = keras.Model(model.input, [layer.output, model.output])
    with tf.GradientTape() as tape:
        features, predictions = explainer(images, training=False)
        predicted = tf.argmax(predictions, axis=-1)
        target = tf.gather(predictions, predicted, axis=1, batch_dims=1)
    gradients = tape.gradient(target, features)
    features = tf.cast(features, tf.float32)
    channel_weights = tf.reduce_mean(tf.cast(gradients, tf.float32), axis=(1, 2))
    heat = tf.nn.relu(tf.einsum("nhwc,nc->nhw", features, channel_weights))
    peak = tf.reduce_max(heat, axis=(1, 2), keepdims=True)
    heat = tf.math.divide_no_nan(heat, peak)
    resized = tf.image.resize(heat[..., None], images.shape[1:3], method="bilinear")
    return np.clip(resized[..., 0].numpy(), 0.0, 1.0).astype("float32")


def _as_list(outputs):
    return outputs if isinstance(outputs, list | tuple) else [outputs]


def _to_numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(value, "float32")))
