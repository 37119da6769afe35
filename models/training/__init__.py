"""The training pipeline: data from seeded simulator scenarios, training, export, evaluation."""
