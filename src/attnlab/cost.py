"""What a model costs in arithmetic and memory traffic, so that seconds can be read.

- `forward_flops(model)`: floating-point operations of one forward pass of one sample,
  counted by TensorFlow's profiler over every op of the traced graph (convolutions and
  matmuls, and the element-wise ops, reductions and activations of every layer,
  attention blocks included). A multiply-add is 2 FLOPs.
- `block_costs(model)`: per attention block, its FLOPs and the bytes of activations its
  ops read and write per sample (each op's float inputs and outputs that are not
  weights, as if nothing were fused): the memory traffic an unfused implementation moves.

Training costs about 3x the forward FLOPs per sample (forward, and the two backward
products); `training_flops` adds the validation passes. Importing this module does not
import TensorFlow (the tables use `training_flops`).
"""

from __future__ import annotations

# Ops that move no activation data of their own.
_NOT_ACTIVATIONS = {
    "Placeholder",
    "Const",
    "ReadVariableOp",
    "VarHandleOp",
    "Identity",
    "NoOp",
    "Shape",
    "Reshape",
    "StridedSlice",
    "Pack",
    "Squeeze",
    "ExpandDims",
}


def _graph(fn, input_shape):
    """`fn` traced on one sample with every op in the graph (`attnlab.blocks.kernels.unfused`)."""
    import tensorflow as tf

    from attnlab.blocks.kernels import unfused

    spec = tf.TensorSpec((1, *input_shape), tf.float32)
    with unfused():
        return tf.function(fn).get_concrete_function(spec).graph


def graph_flops(graph) -> int:
    """FLOPs of every op in `graph` that TensorFlow has a FLOP count for."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(graph, options=options).total_float_ops)


def graph_bytes(graph) -> int:
    """Bytes of float activations read and written by the graph's ops (batch 1)."""
    total = 0
    for op in graph.get_operations():
        if op.type in _NOT_ACTIVATIONS:
            continue
        tensors = [t for t in op.inputs if t.op.type not in ("ReadVariableOp", "Const")]
        for tensor in [*tensors, *op.outputs]:
            if tensor.dtype.is_floating and tensor.shape.is_fully_defined():
                total += tensor.shape.num_elements() * tensor.dtype.size
    return total


def forward_flops(model) -> int:
    """FLOPs of one forward pass of one sample (inference mode)."""
    return graph_flops(_graph(lambda x: model(x, training=False), model.input.shape[1:]))


def block_costs(model) -> dict[str, dict[str, int]]:
    """{block layer name: {"flops": ..., "bytes": ...}} per sample, in model order."""
    from attnlab.attention import attention_blocks

    costs = {}
    for block in attention_blocks(model):
        graph = _graph(lambda x, b=block: b(x, training=False), block.input.shape[1:])
        costs[block.name] = {"flops": graph_flops(graph), "bytes": graph_bytes(graph)}
    return costs


def training_flops(forward: int, train_samples: int, val_samples: int, epochs: int) -> int:
    """FLOPs of a fit: 3x forward per training sample, 1x per validation sample, per epoch."""
    return epochs * (3 * forward * train_samples + forward * val_samples)
