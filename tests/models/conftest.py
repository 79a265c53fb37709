import pytest
from sklearn.base import clone

from tests.estimator_registry import pair_data_for, single_reward_model_instances

# The single reward models; meta-estimators (RewardEnsemble, ActiveLearner) have
# tests of their own.
REWARD_MODELS = {repr(model): model for model in single_reward_model_instances()}


@pytest.fixture(scope="module", params=list(REWARD_MODELS))
def fitted(request):
    """(fitted model, training data, fresh test data) for each registered model."""
    model = clone(REWARD_MODELS[request.param])
    train = pair_data_for(model)
    test = pair_data_for(model, n_pairs=200, random_state=1)
    return model.fit(train.X, train.y), train, test
