"""Attention blocks beyond the study's, one module per block family.

`attnlab.layers` re-exports every class here, so it stays the one namespace the
registry resolves layer names in, and importing it registers every block with Keras.
`base` holds what all blocks share (the `AttentionBlock` class and small helpers).
"""
