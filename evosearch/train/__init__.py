"""Training the latent memory (`evosearch train`): samples, recipes, features, the loop."""
