"""Business rules: plain, tested Python that the pipeline steps call. One home for every rule."""
