"""Parameter descriptions shared by the reward estimators' docstrings."""

TRAINING_PARAMS = """\
    max_epochs : int, default=10
        Number of passes over the training pairs (paper: 10).
    lr : float, default=1e-4
        Adam learning rate (paper: 1e-4).
    weight_decay : float, default=0.0
        Adam weight decay.
    batch_size : int, default=64
        Pairs per optimisation step (and per validation step). Prediction runs
        in chunks of at least 8,192 pairs, which change no prediction.
    validation_fraction : float or None, default=0.1
        Share of the training pairs held out (stratified by label) to pick the
        epoch with the best validation accuracy, whose weights are kept (the
        paper's protocol). Ignored when ``fit`` receives ``X_val, y_val``. With
        ``None`` or ``0`` the weights with the lowest training loss are kept.
    patience : int or None, default=None
        Stop after this many epochs without a better validation accuracy, or,
        without validation pairs (``validation_fraction=None`` or ``0`` and no
        ``X_val``), without a lower training loss. ``None`` trains all
        ``max_epochs`` (the best weights are kept either way).
    device : {"auto", "cpu", "cuda", "mps"} or str, default="auto"
        Torch device (``"cuda:1"`` also works); ``"auto"`` picks CUDA, then MPS,
        then the CPU. A device this machine lacks is a ``ValueError`` in ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, the batch order and the validation split
        (three seeds drawn from it). The same integer gives identical predictions
        on the same device; NumPy's and torch's global random states are left
        untouched either way.
    verbose : int, default=0
        ``1`` prints a line per epoch (losses, validation accuracy, time); ``2``
        adds a progress bar per epoch."""

FITTED_ATTRIBUTES = """\
    classes_ : ndarray of shape (2,)
        Always ``[0, 1]``: ``predict_proba(X)[:, 1]`` is ``P(a > b)``.
    n_features_in_ : int
        Number of columns of ``X`` seen in ``fit``.
    n_pair_features_ : int
        Number of features of one response (``d``).
    net_ : skorch.NeuralNet
        The fitted skorch net holding the torch module ``net_.module_``.
    history_ : pandas.DataFrame
        One row per epoch: ``train_loss``, ``valid_loss``, ``valid_acc``, ``dur``
        and model-specific columns.
    n_epochs_ : int
        Number of epochs trained.
    best_epoch_ : int
        The epoch whose weights were kept (1-based).
    convergence_warning_ : str or None
        The kind of :class:`~sklearn.exceptions.ConvergenceWarning` the fit
        raised: ``"non-finite"`` (a NaN or infinite loss), ``"diverged"`` (the
        kept epoch's loss is over ten times chance) or ``"saturated"``
        (probabilities of exactly 0 or 1 on most training pairs); None when it
        raised none."""


def fill(doc, **sections):
    """Substitute ``%(name)s`` placeholders in a docstring with shared sections."""
    return doc % {**sections}
