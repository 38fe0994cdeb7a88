"""Attention blocks for small CNNs, as registered Keras layers.

Every block is a `keras.layers.Layer` subclass registered under the package
"attnlab", with a `get_config` and no `Lambda` layers, so a model saved as a
`.keras` file reloads in a fresh process with `safe_mode=True` once this module
has been imported.

Options have no defaults here: `attnlab.block_records` holds them (one source of truth)
and `attnlab.models` passes every option.

Every block is an `AttentionBlock`: besides its normal call it has
`attention_maps(inputs)`, which runs the block on `inputs` (the tensor the block
receives inside the model) and returns its attention maps by kind:

- `"spatial"`: a sigmoid map over positions, shape (N, H, W), in [0, 1];
- `"channel"`: the weights multiplied onto the channels, shape (N, C), in [0, 1]
  except for `ChannelAttention`, whose weights are layer-normalised;
- `"scores"`: self-attention scores, shape (N, heads, H*W, H*W), rows sum to 1.

`attnlab.attention.maps` collects these for every block of a model.
"""

from attnlab.blocks.bam import BAM
from attnlab.blocks.base import AttentionBlock
from attnlab.blocks.channel import CECA, ECA, EffectiveSE, eca_kernel_size
from attnlab.blocks.coordinate import CoordinateAttention, hard_swish
from attnlab.blocks.gates import CBAM, CBAMOriginal, ChannelAttention, SqueezeExcite
from attnlab.blocks.gather_excite import GatherExcite
from attnlab.blocks.global_context import GlobalContext
from attnlab.blocks.kernels import FUSE_ELEMENTS, narrow_conv, unfused
from attnlab.blocks.light_cbam import LightCBAM
from attnlab.blocks.multibranch import SelectiveKernel, SplitAttention
from attnlab.blocks.nonlocal_block import NonLocal
from attnlab.blocks.self_attention import PatchSelfAttention
from attnlab.blocks.simam import SimAM
from attnlab.blocks.spatial import SpatialGate
from attnlab.blocks.triplet import TripletAttention

# The one namespace the registry resolves layer names in; importing it registers every
# block with Keras.
__all__ = [
    "BAM",
    "CBAM",
    "CECA",
    "ECA",
    "FUSE_ELEMENTS",
    "AttentionBlock",
    "CBAMOriginal",
    "ChannelAttention",
    "CoordinateAttention",
    "EffectiveSE",
    "GatherExcite",
    "GlobalContext",
    "LightCBAM",
    "NonLocal",
    "PatchSelfAttention",
    "SelectiveKernel",
    "SimAM",
    "SpatialGate",
    "SplitAttention",
    "SqueezeExcite",
    "TripletAttention",
    "eca_kernel_size",
    "hard_swish",
    "narrow_conv",
    "unfused",
]
