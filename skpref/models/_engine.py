"""The vectorised training engine: many reward models trained as one.

Each member is an ordinary reward model whose fit was planned as if it were fitted
alone (:meth:`BaseRewardModel._plan_fit`: its rows of the shared data, its weights,
its three seeds and its holdout) and whose own skorch net was built and
initialised from its own seed. The engine stacks the members' initial weights
(:class:`~skpref.models._stacked.StackedModules`) and trains them in one skorch
net, one forward and backward pass and one Adam step for all members per step,
on batches indexed from one copy of the data on the device.

Each member's own net is kept in step: after every epoch it receives its
statistics (its history rows) and its weights, and its own callbacks run on it
as in a fit alone — the best-weights choice, patience, the NaN guard, the
adversary's schedule. So member ``k`` ends with the weights, history and best
epoch of the model fitted alone with the same seed and data, up to floating-point
rounding (the stacked matrix products round differently). A member whose
callbacks stop it (patience, NaN loss) keeps being stepped with the others, but
nothing of it is recorded any more and its kept weights are those its own
callbacks chose.

Members train together when they share the architecture, the optimiser's
settings, the device, whether they validate, and the number of steps per epoch
(``ceil(n_train / batch_size)``): Adam would otherwise take steps on the empty
batches of the shorter members. Members with the same number of steps but
different numbers of rows differ only in their last batch, which is padded with
weight-0 rows and masked. On the CPU, members too large to gain from stacking
(see ``_CPU_STACKING_MAX_PARAMETERS``) train one after another from the same
plans, each exactly as alone.
"""

import math

import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data

from skpref.models._adversary import training_block
from skpref.models._batches import Batches, PairData, Phases, Rows
from skpref.models._stacked import StackedModules


def fit_together(
    models, data, *, rows=None, valid_rows=None, covariates=None, progress=None
):
    """Fit unfitted reward models together; each as it would be fitted alone.

    Parameters
    ----------
    models : list of BaseRewardModel
        The models, with their parameters validated.
    data : list of (X, y, sample_weight)
        Each model's training data, validated: ``X`` float32 pairs, ``y`` labels,
        ``sample_weight`` float64 (ones for none). Models given the same ``X``
        and ``y`` objects share one copy of them on the device (their weights
        stay their own).
    rows : list of (ndarray or None) or None, default=None
        The rows of its ``X`` each model trains on, in order (None: all), less
        the model's holdout.
    valid_rows : list of (ndarray or None) or None, default=None
        The rows of its ``X`` each model validates on instead of holding out
        ``validation_fraction`` of its ``rows`` (an empty array: none; None: the
        holdout). A model so given ``rows`` and ``valid_rows`` is the model
        fitted alone on ``X[rows]`` with ``X_val=X[valid_rows]``, except that
        its validation pairs keep their weights.
    covariates : list of (DataFrame, array-like or None) or None, default=None
        Each model's ``covariates`` fit metadata (adversarial models with a
        covariate target; None: none). Models given the same ``X`` and the same
        ``covariates`` object share one copy of the rows and their targets.
    progress : tqdm-like or None, default=None
        A progress bar (``update(n)``, ``refresh()``, a settable ``total``)
        advanced by one at every epoch of the training: of a stacked group, or of
        a model trained alone; its ``total`` grows by the epochs to come.

    Returns
    -------
    models : list of BaseRewardModel
        The models, fitted.
    """
    rows = rows or [None] * len(models)
    valid_rows = valid_rows or [None] * len(models)
    covariates = covariates or [None] * len(models)
    by_device, sides = {}, []
    for k, model in enumerate(models):
        X, y, weight = data[k]
        model.n_features_in_ = X.shape[1]
        side = model._adversary_side(X, covariates[k])
        sides.append(side)
        plan = model._plan_fit(X, y, weight, rows[k], valid_rows=valid_rows[k])
        # the rows of one PairData have one width: X's, plus the adversary's targets
        width = X.shape[1] + (0 if side is None else side.shape[1])
        by_device.setdefault((model.device_, width), []).append((k, plan))
    for (device, _), planned in by_device.items():
        blocks, offsets = {}, []
        for k, _ in planned:
            X, y, _ = data[k]
            # the weights are not part of a block: each plan holds its own
            key = (id(X), id(y), None if sides[k] is None else sides[k].tobytes())
            if key not in blocks:
                start = sum(len(block[0]) for block in blocks.values())
                blocks[key] = (training_block(X, sides[k]), y, start)
            offsets.append(blocks[key][2])
        plans = [
            _shifted(plan, offset)
            for (_, plan), offset in zip(planned, offsets, strict=True)
        ]
        shared = PairData(
            [X for X, _, _ in blocks.values()],
            [y for _, y, _ in blocks.values()],
            device,
        )
        train_members(plans, shared, progress=progress)
    for k, model in enumerate(models):  # on its rows, as a fit alone on X[rows]
        model._summarise_training(data[k][0], rows[k])
    return models


def _shifted(plan, offset):
    """Move the plan's rows by ``offset``, the start of its block in the data."""
    if offset:
        plan.train = Rows(plan.train.index + offset, plan.train.weight)
        if plan.valid is not None:
            plan.valid = Rows(plan.valid.index + offset, plan.valid.weight)
    return plan


def _groups(plans):
    """Group the plans that can share steps, by their key (:func:`_group_key`)."""
    groups = {}
    for plan in plans:
        groups.setdefault(_group_key(plan), []).append(plan)
    return groups


def train_members(plans, data, *, progress=None):
    """Train the planned members on ``data``, in groups that can share steps.

    Parameters
    ----------
    plans : list of FitPlan
        One per member: the estimator (with its fitted attributes set by
        ``_plan_fit``), its rows, weights and seeds.
    data : PairData
        The rows the plans index, on the members' device.
    progress : tqdm-like or None, default=None
        Advanced by one per epoch of a stacked group or of a model trained alone.

    Returns
    -------
    groups : list of list of int
        The positions of the plans trained together, group by group.
    """
    position = {id(plan): i for i, plan in enumerate(plans)}
    groups = list(_groups(plans).values())
    stacking = [_worth_stacking(group) for group in groups]
    if progress is not None:
        epochs = [
            g[0].estimator.max_epochs * (1 if s else len(g))
            for g, s in zip(groups, stacking, strict=True)
        ]
        progress.total = (progress.total or 0) + sum(epochs)
        progress.refresh()
    for group, stacked in zip(groups, stacking, strict=True):
        if stacked:
            _train_group(group, data, progress)
            continue
        for plan in group:  # the same plans and batches, one model after another
            plan.estimator._train_alone(
                plan, Phases(plan.train_batches(data), plan.valid_batches(data))
            )
            if progress is not None:
                progress.update(plan.estimator.max_epochs)
    return [[position[id(plan)] for plan in group] for group in groups]


#: On the CPU, members of more parameters than this train one after another.
#: Stacked, the matrix products of a step run as batched products with their
#: gradients transposed and copied, which on a CPU costs more than the per-step
#: overhead it saves once the products dominate. Measured on 2 CPU cores (one
#: torch thread, Multihead, 2,000 pairs of d = 32), stacked / one after another:
#: 30 members of width 128 (about 70k parameters each) 0.53 (a whole confounding
#: run), 5 of width 128 0.7-1.1, 5 of width 256 (270k) 1.05, 5 of width 512
#: (1.07M) 1.26-1.37.
_CPU_STACKING_MAX_PARAMETERS = 150_000


def _worth_stacking(plans):
    """Whether the members gain by training stacked: on an accelerator, or small."""
    if len(plans) < 2:
        return False
    model = plans[0].estimator
    if not model.device_.startswith("cpu"):
        return True
    module, module_params = model._build_module_params()
    with torch.device("meta"):
        n_parameters = sum(p.numel() for p in module(**module_params).parameters())
    return n_parameters <= _CPU_STACKING_MAX_PARAMETERS


def _group_key(plan):
    model = plan.estimator
    module, module_params = model._build_module_params()
    return (
        type(model),
        model._net_class,
        module,
        tuple(sorted(module_params.items())),
        model.lr,
        model.weight_decay,
        model.max_epochs,
        model.batch_size,
        model.device_,
        plan.valid is not None,
        math.ceil(len(plan.train) / model.batch_size),
    )


def _train_group(plans, data, progress=None):
    models = [plan.estimator for plan in plans]
    first = models[0]
    validated = plans[0].valid is not None
    for model, plan in zip(models, plans, strict=True):
        model.net_ = model._build_net(validated=validated)
        with model._forked_rng():
            torch.default_generator.manual_seed(plan.seeds.init)  # as in a fit alone
            model.net_.initialize()
    stacked = StackedModules([model.net_.module_ for model in models])
    train = Batches(
        data,
        [plan.train for plan in plans],
        first.batch_size,
        [plan.generator() for plan in plans],
        stacked=True,
    )
    valid = None
    if validated:
        members = [plan.valid for plan in plans]
        valid = Batches(data, members, first.batch_size, stacked=True)
    callbacks = [("members", MemberNets([model.net_ for model in models]))]
    counter = EpochProgress(progress)
    if progress is not None:
        callbacks.append(("progress", counter))
    net = stacked_net_class(first._net_class)(
        stacked, callbacks=callbacks, **first._net_params()
    )
    with first._forked_rng():
        net.initialize()
        net.partial_fit(Phases(train, valid))
    if progress is not None:  # the epochs left when every member stopped early
        progress.update(first.max_epochs - counter.n_epochs_)


_STACKED_CLASSES = {}


def stacked_net_class(net_class):
    """Return the engine's net class for members of ``net_class`` (same loss)."""
    if net_class not in _STACKED_CLASSES:
        _STACKED_CLASSES[net_class] = type(
            f"Stacked{net_class.__name__}", (StackedNetMixin, net_class), {}
        )
    return _STACKED_CLASSES[net_class]


class StackedNetMixin:
    """Turn a pair net into the engine's net: stacked batches, one loss per member.

    The members' loss is the member net class's own ``get_loss``, written over
    the last axis, so it returns one loss per member here. Statistics of each
    phase go to :class:`MemberNets` instead of this net's history.
    """

    @property
    def _default_callbacks(self):
        return []

    def train_step_single(self, batch, **fit_params):
        # skorch's step, differentiating the sum of the members' losses: the
        # members share no parameter, so each gets the gradient of its own loss.
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        loss.sum().backward()
        return {"loss": loss, "y_pred": y_pred}

    def record_phase(self, prefix, values, rows, batch_count):
        self.history.record(f"{prefix}_members", (values, rows, batch_count))


class EpochProgress(Callback):
    """Advance a progress bar by one at the end of every epoch."""

    def __init__(self, bar):
        self.bar = bar

    def on_train_begin(self, net, **kwargs):
        self.n_epochs_ = 0

    def on_epoch_end(self, net, **kwargs):
        self.n_epochs_ += 1
        self.bar.update(1)


class MemberNets(Callback):
    """Run the members' own nets (callbacks and histories) alongside the engine.

    Parameters
    ----------
    nets : list of PairNet
        The members' initialised nets, in the order of the stacked members.
    """

    def __init__(self, nets):
        self.nets = nets

    def on_train_begin(self, net, **kwargs):
        self.stopped_ = [False] * len(self.nets)
        for member in self.nets:
            member.notify("on_train_begin", X=None, y=None)

    def on_epoch_begin(self, net, **kwargs):
        for k, member in self._running():
            member.notify("on_epoch_begin", dataset_train=None, dataset_valid=None)
            net.module_.copy_buffers_from(k, member.module_)

    def on_epoch_end(self, net, **kwargs):
        phases = [
            (prefix, net.history[-1, f"{prefix}_members"])
            for prefix in ("train", "valid")
            if f"{prefix}_members" in net.history[-1]
        ]
        for k, member in self._running():
            for prefix, (values, rows, batch_count) in phases:
                member.history.new_batch()
                own = {name: value[k] for name, value in values.items()}
                member.record_phase(prefix, own, rows[k], batch_count)
            net.module_.copy_member_to(k, member.module_)
            try:
                member.notify("on_epoch_end", dataset_train=None, dataset_valid=None)
            except KeyboardInterrupt:  # its callbacks stopped it, as in a fit alone
                self.stopped_[k] = True
        if all(self.stopped_):
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        for member in self.nets:
            member.notify("on_train_end", X=None, y=None)

    def _running(self):
        return [(k, m) for k, m in enumerate(self.nets) if not self.stopped_[k]]
