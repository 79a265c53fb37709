"""The torch pieces: gradient reversal, the networks' shapes and head selection."""

import pytest
import torch

from skpref.models._modules import (
    AdversarialRewardModule,
    BTLRewardModule,
    GradientReversal,
    MultiheadRewardModule,
)


@pytest.mark.parametrize("weight", [0.0, 0.5, 2.0])
def test_gradient_reversal_is_identity_forward_and_negated_backward(weight):
    x = torch.randn(5, 3, requires_grad=True)
    out = GradientReversal(weight)(x)
    assert torch.equal(out, x)
    out.sum().backward()
    assert torch.equal(x.grad, torch.full_like(x, -weight))


def test_btl_module_has_the_papers_shape():
    module = BTLRewardModule(10, hidden_dim=512, latent_dim=64, n_layers=3)
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (10, 512),
        (512, 512),
        (512, 64),
        (64, 1),
    ]
    assert sum(isinstance(m, torch.nn.GELU) for m in module.modules()) == 3


def test_base_module_concatenates_the_one_hot_objective():
    module = BTLRewardModule(4, hidden_dim=8, latent_dim=4, n_layers=2, n_objectives=3)
    assert module.encoder[0].in_features == 4 + 3
    E = torch.randn(6, 4)
    ids = torch.tensor([0, 1, 2, 0, 1, 2])
    rewards = module.reward(E, ids)
    swapped = module.reward(E, torch.tensor([1, 1, 2, 0, 1, 2]))
    assert not torch.isclose(rewards[0], swapped[0])
    assert torch.equal(rewards[1:], swapped[1:])


def test_multihead_module_picks_the_objectives_head():
    module = MultiheadRewardModule(
        4, hidden_dim=8, latent_dim=6, n_layers=3, head_hidden_dim=5, n_objectives=3
    )
    E = torch.randn(7, 4)
    ids = torch.tensor([0, 1, 2, 2, 1, 0, 1])
    latent = module.encoder(E)
    expected = torch.stack(
        [module.heads[int(c)](latent[i : i + 1]).squeeze() for i, c in enumerate(ids)]
    )
    torch.testing.assert_close(module.reward(E, ids), expected)
    assert module.heads[0][0].in_features == 6


def small_adversarial_module(**overrides):
    torch.manual_seed(0)
    sizes = {"hidden_dim": 8, "latent_dim": 4, "head_hidden_dim": 4}
    return AdversarialRewardModule(
        3,
        discriminator_hidden_dim=4,
        n_layers=2,
        **{**sizes, "n_objectives": 2, **overrides},
    )


def test_adversarial_module_reverses_only_the_encoder_gradient():
    module = small_adversarial_module()
    X = torch.cat([torch.randn(10, 6), torch.tensor([[0.0], [1.0]] * 5)], dim=1)

    def encoder_and_disc_grads(weight):
        module.zero_grad()
        module.reversal.weight.fill_(weight)
        out = module(X)
        disc_logits, disc_target = out["disc_out"], out["disc_target"]
        loss = torch.nn.functional.cross_entropy(disc_logits, disc_target)
        loss.backward()
        return (
            module.encoder[0].weight.grad.clone(),
            module.discriminator[0].weight.grad.clone(),
        )

    enc_plus, disc_plus = encoder_and_disc_grads(1.0)
    enc_half, disc_half = encoder_and_disc_grads(0.5)
    enc_zero, _ = encoder_and_disc_grads(0.0)
    # the discriminator descends its own loss whatever the weight ...
    torch.testing.assert_close(disc_plus, disc_half)
    # ... while the encoder gets minus weight times that gradient
    torch.testing.assert_close(enc_half, 0.5 * enc_plus)
    assert torch.count_nonzero(enc_zero) == 0
    # weight -1 lets the plain gradient through: the reversal is its exact negative
    enc_plain, _ = encoder_and_disc_grads(-1.0)
    assert torch.count_nonzero(enc_plain) > 0
    torch.testing.assert_close(enc_plus, -enc_plain)


def test_adversarial_forward_returns_the_discriminators_logits_and_targets():
    module = small_adversarial_module(latent_dim=5, n_objectives=3)
    X = torch.cat([torch.randn(4, 6), torch.tensor([[0.0], [2.0], [1.0], [2.0]])], 1)
    out = module(X)
    disc_logits, disc_target = out["disc_out"], out["disc_target"]
    torch.testing.assert_close(out["reward_a"] - out["reward_b"], module.margin(X))
    assert disc_logits.shape == (8, 3)
    # the a halves' targets, then the b halves': the pair's objective twice
    assert disc_target.tolist() == [0, 2, 1, 2, 0, 2, 1, 2]
    # latent_dim is passed explicitly, not read back from a layer
    assert module.discriminator[0].in_features == 5


@pytest.mark.parametrize("module_cls", [BTLRewardModule, MultiheadRewardModule])
def test_margin_is_the_reward_difference_and_forward(module_cls):
    torch.manual_seed(0)
    extra = {"head_hidden_dim": 4} if module_cls is MultiheadRewardModule else {}
    module = module_cls(
        3, hidden_dim=8, latent_dim=4, n_layers=2, n_objectives=2, **extra
    )
    X = torch.cat([torch.randn(5, 6), torch.tensor([[0.0], [1.0]] * 2 + [[1.0]])], 1)
    objective = X[:, -1].long()
    expected = module.reward(X[:, :3], objective) - module.reward(X[:, 3:6], objective)
    torch.testing.assert_close(module.margin(X), expected)
    out = module(X)
    assert torch.equal(out["reward_a"] - out["reward_b"], module.margin(X))


@pytest.mark.parametrize("with_objective", [True, False])
def test_a_covariate_adversary_reads_its_targets_from_the_named_input(with_objective):
    module = small_adversarial_module(
        n_objectives=2 if with_objective else 1,
        with_objective=with_objective,
        adversary="continuous",
        n_adversary_outputs=1,
    )
    objective = [torch.tensor([[0.0], [1.0], [1.0]])] if with_objective else []
    targets = torch.tensor([[0.5, -1.0], [2.0, 0.0], [-0.5, 1.5]])
    X = torch.cat([torch.randn(3, 6), *objective], dim=1)
    assert module.extra_inputs == ("target",)
    out = module(X, target=targets)
    assert out["disc_target"].tolist() == [0.5, 2.0, -0.5, -1.0, 0.0, 1.5]
    assert out["disc_out"].shape == (6, 1)
    torch.testing.assert_close(out["reward_a"] - out["reward_b"], module.margin(X))


def test_the_module_without_objective_column_has_one_head():
    module = small_adversarial_module(n_objectives=1, with_objective=False)
    E, X = torch.randn(4, 3), torch.randn(4, 6)
    # the single head, for the pairs (no id) and for responses given id 0
    torch.testing.assert_close(
        module.margin(X),
        module.reward(X[:, :3], torch.zeros(4, dtype=torch.long))
        - module.reward(X[:, 3:], torch.zeros(4, dtype=torch.long)),
    )
    assert module.split(X)[2] is None and module.reward(E, None).shape == (4,)
    with pytest.raises(ValueError, match="one head; got n_objectives=2"):
        small_adversarial_module(n_objectives=2, with_objective=False)
