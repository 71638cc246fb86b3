"""Other model families built as tensor networks (convolutional arithmetic circuits, ...)."""
