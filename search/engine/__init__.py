"""The engine: MNIST, the training loop, profiles, the objective a trial runs."""
