"""TRL's GRPOTrainer with skpref rewards, in-process and served (the slow tier).

A tiny random Llama policy, built from a config, trains for two steps with
``skpref.reward_function`` and ``RemoteReward`` (against a server on the
loopback interface) as its two reward functions; both must log the same rewards.
"""

import numpy as np
import pytest

from skpref import reward_function
from skpref.serve import RemoteReward
from tests.serve.conftest import running_server

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

pytestmark = pytest.mark.slow

TOPICS = ["bread", "taxes", "chess", "rain"]


def prompt_dataset(conversational):
    prompts = [f"Human: tell me about {topic}" for topic in TOPICS]
    if conversational:
        prompts = [[{"role": "user", "content": p}] for p in prompts]
    # the objective of each prompt, a dataset column RL trainers pass on
    objective = ["helpful", "harmless", "helpful", "harmless"]
    return datasets.Dataset.from_dict({"prompt": prompts, "objective": objective})


@pytest.fixture(scope="module")
def policy(tiny_models):
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_models["llama_chat"])
    tokenizer.pad_token = tokenizer.eos_token
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        intermediate_size=32,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    return model, tokenizer


@pytest.fixture(scope="module")
def servers(single_pipeline, multi_pipeline):
    with (
        running_server(single_pipeline) as single_url,
        running_server(multi_pipeline) as multi_url,
    ):
        yield {"single": single_url, "multi": multi_url}


@pytest.mark.parametrize("conversational", [False, True], ids=["string", "chat"])
@pytest.mark.parametrize("objectives", ["single", "multi"])
def test_grpo_trains_with_in_process_and_served_rewards(
    policy,
    servers,
    single_pipeline,
    multi_pipeline,
    tmp_path,
    conversational,
    objectives,
):
    import copy

    model, tokenizer = policy
    pipeline = {"single": single_pipeline, "multi": multi_pipeline}[objectives]
    local = reward_function(pipeline)  # multi: the objective from the dataset column
    remote = RemoteReward(servers[objectives])
    remote.__name__ = "remote"
    args = trl.GRPOConfig(
        output_dir=str(tmp_path),
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=8,
        learning_rate=1e-3,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        seed=0,
        disable_tqdm=True,
    )
    trainer = trl.GRPOTrainer(
        model=copy.deepcopy(model),
        reward_funcs=[local, remote],
        args=args,
        train_dataset=prompt_dataset(conversational),
        processing_class=tokenizer,
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(logs) == 2
    for entry in logs:
        in_process = entry[f"rewards/{local.__name__}/mean"]
        served = entry["rewards/remote/mean"]
        assert np.isfinite(in_process)
        np.testing.assert_allclose(served, in_process, rtol=1e-5, atol=1e-6)
