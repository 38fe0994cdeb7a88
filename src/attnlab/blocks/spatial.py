"""The study's spatial attention: one sigmoid map from a 1x1 conv."""

from keras import layers

from attnlab.blocks.base import AttentionBlock, register


@register
class SpatialGate(AttentionBlock):
    """The study's "spatial attention": a 1x1 conv to one sigmoid map, multiplied on.

    For C input channels it adds C + 1 parameters (33 on the digits' 32 channels).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(
            1, 1, activation="sigmoid", dtype=self.dtype_policy, name="map_conv"
        )

    def build(self, input_shape):
        self.conv.build(input_shape)

    def forward(self, inputs, training=None):
        spatial = self.conv(inputs)
        return inputs * spatial, {"spatial": spatial[..., 0]}
