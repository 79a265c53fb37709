import pytest
from model_configs import CONFIGS, make_data


@pytest.fixture(scope="module", params=list(CONFIGS))
def fitted(request):
    """(config name, fitted model, training data, fresh test data)."""
    factory, kind = CONFIGS[request.param]
    train, test = make_data(kind), make_data(kind, n_pairs=200, random_state=1)
    model = factory(random_state=0).fit(train.X, train.y)
    return request.param, model, train, test
