"""FLOPs and activation bytes (attnlab.cost) against hand counts."""

import subprocess
import sys

import keras
import pytest

from attnlab import cost, models


def test_a_convolution_costs_two_flops_per_multiply_add():
    inputs = keras.Input((28, 28, 1))
    conv = keras.layers.Conv2D(32, 3, use_bias=False)(inputs)
    model = keras.Model(inputs, conv)
    assert cost.forward_flops(model) == 2 * 26 * 26 * 32 * 3 * 3 * 1


def test_the_base_model_costs_its_convolutions_dense_layers_and_a_little_more():
    # conv1 + conv2 + dense + predictions, multiply-adds x 2 (the benchmark's hand count).
    macs = 26 * 26 * 32 * 9 + 11 * 11 * 64 * 9 * 32 + 1600 * 128 + 128 * 10
    counted = cost.forward_flops(models.build("base", family="digits"))
    assert 2 * macs <= counted <= 1.02 * 2 * macs


@pytest.mark.parametrize(
    "family, variant", [("digits", "cbam"), ("digits", "self_attention"), ("spectrogram", "bam")]
)
def test_block_costs_add_up_to_the_difference_in_model_flops(family, variant):
    twin = {"digits": "base", "spectrogram": "lenet_bn"}[family]
    model = models.build(variant, family=family)
    blocks = cost.block_costs(model)
    extra = cost.forward_flops(model) - cost.forward_flops(models.build(twin, family=family))
    assert sum(b["flops"] for b in blocks.values()) == extra
    for name, block_cost in blocks.items():
        layer = model.get_layer(name)
        in_bytes = 4 * layer.input.shape[1] * layer.input.shape[2] * layer.input.shape[3]
        assert block_cost["bytes"] >= 2 * in_bytes  # reads its input, writes its output


def test_eca_moves_far_more_bytes_than_it_computes():
    (eca,) = cost.block_costs(models.build("eca", family="digits")).values()
    assert eca["flops"] < 0.25 * eca["bytes"]


def test_training_flops():
    assert cost.training_flops(10, train_samples=5, val_samples=2, epochs=3) == 3 * (150 + 20)


def test_importing_cost_does_not_import_tensorflow():
    code = "import sys, attnlab.cost, attnlab.tables; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_flops_and_bytes_count_the_ops_that_xla_fuses():
    """CBAM's element-wise passes on spectrograms run as XLA calls, whose insides
    TensorFlow's profiler cannot see; the counts are those of the plain ops."""
    import tensorflow as tf

    from attnlab import layers

    model = models.build("cbam", family="spectrogram")
    spec = tf.TensorSpec((1, 128, 128, 3), tf.float32)
    fused = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    with layers.unfused():
        plain = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    assert cost.graph_flops(fused) < cost.graph_flops(plain) == cost.forward_flops(model)
    assert cost.graph_bytes(fused) < cost.graph_bytes(plain)


@pytest.mark.parametrize(
    "variant, macs",
    [
        # two 3x3 convs 32 -> 32 on 13x13 (the second dilated), fuse and select layers
        ("sk", 2 * 13 * 13 * 32 * 9 * 32 + 32 * 32 + 32 * 64),
        # a 3x3 conv 32 -> 64 in two groups of 16 input channels, fc1 and fc2
        ("splat", 13 * 13 * 64 * 9 * 16 + 32 * 32 + 32 * 64),
    ],
)
def test_multi_branch_blocks_count_their_convolutions(variant, macs):
    """Grouped convs count too (Keras would run Conv2D(groups=2) through XLA on CPU, where
    the profiler sees nothing); the rest is element-wise work and BatchNorm."""
    (block,) = cost.block_costs(models.build(variant, family="digits")).values()
    assert 2 * macs <= block["flops"] <= 1.1 * 2 * macs
