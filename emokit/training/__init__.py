"""Training: config, the trainer, checkpoints and callbacks."""
