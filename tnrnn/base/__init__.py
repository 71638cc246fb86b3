"""Ground floor: errors, validation, the memory/flops budget, atomic io and exact counts."""
