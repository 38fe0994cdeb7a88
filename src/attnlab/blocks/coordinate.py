"""Coordinate attention (Hou et al. 2021): pooling along each axis, two directional maps."""

from keras import layers, ops

from attnlab.blocks.base import AttentionBlock, register


def hard_swish(x):
    """x * ReLU6(x + 3) / 6, the activation Coordinate Attention uses."""
    return x * ops.relu6(x + 3.0) / 6.0


@register
class CoordinateAttention(AttentionBlock):
    """Coordinate Attention (Hou et al. 2021): channel attention that keeps positions.

    Average-pool along the width (one C-vector per row) and along the height (one per
    column), concatenate the H + W vectors -> 1x1 conv to M = max(min_channels,
    C // reduction) channels -> BatchNorm -> hard swish; split back into rows and
    columns -> a 1x1 conv (M -> C, sigmoid) each. The output is x * a_rows * a_cols.
    Parameters: (C + 1) M + 4 M (BatchNorm) + 2 (M + 1) C. The "spatial" map is the
    channel mean of a_rows * a_cols.
    """

    OPTIONS = ("reduction", "min_channels")

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        hidden = max(self.min_channels, channels // self.reduction)
        policy = self.dtype_policy
        self.squeeze = layers.Conv2D(hidden, 1, dtype=policy, name="squeeze")
        self.norm = layers.BatchNormalization(dtype=policy, name="norm")
        self.rows = layers.Conv2D(channels, 1, activation="sigmoid", dtype=policy, name="rows")
        self.cols = layers.Conv2D(channels, 1, activation="sigmoid", dtype=policy, name="cols")
        self.squeeze.build((None, height + width, 1, channels))
        self.norm.build((None, height + width, 1, hidden))
        self.rows.build((None, height, 1, hidden))
        self.cols.build((None, width, 1, hidden))

    def forward(self, inputs, training=None):
        height = inputs.shape[1]
        rows = ops.mean(inputs, axis=2, keepdims=True)  # (N, H, 1, C)
        cols = ops.transpose(ops.mean(inputs, axis=1, keepdims=True), (0, 2, 1, 3))  # (N, W, 1, C)
        mixed = hard_swish(
            self.norm(self.squeeze(ops.concatenate([rows, cols], axis=1)), training=training)
        )
        row_gate = self.rows(mixed[:, :height])  # (N, H, 1, C)
        col_gate = ops.transpose(self.cols(mixed[:, height:]), (0, 2, 1, 3))  # (N, 1, W, C)
        gate = row_gate * col_gate
        return inputs * gate, {"spatial": ops.mean(gate, axis=-1)}
