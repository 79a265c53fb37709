"""A rewriter that runs a local ``transformers`` causal language model."""

from pathlib import Path

from skpref.causal._rewrite_cache import BaseRewriter
from skpref.utils import resolve_device

__all__ = ["HFRewriter", "check_instruction", "rewrite_message"]


def check_instruction(instruction, *, owner):
    """Return ``{0: str, 1: str}`` from a dict or a pair of instructions."""
    if isinstance(instruction, dict) and set(instruction) == {0, 1}:
        pair = instruction[0], instruction[1]
    elif isinstance(instruction, list | tuple) and len(instruction) == 2:
        pair = tuple(instruction)
    else:
        pair = None
    if pair is None or not all(isinstance(text, str) and text for text in pair):
        raise ValueError(
            f"{owner} expects instruction as two non-empty strings, one per target "
            "value: {0: 'Rewrite it without ...', 1: 'Rewrite it with ...'} or a "
            f"pair in that order; got {instruction!r:.80}."
        )
    return dict(enumerate(pair))


def rewrite_message(instruction, prompt, response):
    """Return the user message asking for one rewrite."""
    context = "" if prompt is None else f"Conversation so far:\n{prompt}\n\n"
    return (
        f"{instruction}\n\n{context}Response to rewrite:\n{response}\n\n"
        "Reply with the rewritten response only."
    )


class HFRewriter(BaseRewriter):
    """Rewrite responses with a local ``transformers`` causal language model.

    Each response is put to the model as one user message (the instruction for
    its target value, the prompt, the response) through the tokenizer's chat
    template (a plain-text layout for a tokenizer without one), and the
    generated reply is the rewrite. Batches are left-padded; decoding is greedy
    unless ``do_sample=True``, which is seeded by ``random_state``.

    Parameters
    ----------
    model : str or path-like
        A local folder or Hub name of a causal LM, or a ``.gguf`` file (read by
        transformers with the ``gguf`` package).
    instruction : dict of {0, 1} to str, or pair of str
        What to ask for each target value: ``instruction[1]`` asks for a
        rewrite that has the attribute, ``instruction[0]`` for one without it.
    max_new_tokens : int, default=256
        Longest rewrite, in tokens.
    batch_size : int, default=8
        Responses per ``generate`` call.
    device : str, default="auto"
        Torch device (see :func:`skpref.utils.resolve_device`).
    do_sample : bool, default=False
        Sample instead of greedy decoding.
    temperature : float, default=1.0
        Sampling temperature (``do_sample=True`` only).
    random_state : int, default=0
        Seed of the sampling: batch ``k`` is drawn with the seed
        ``random_state + k``.
    cache_dir : str, path-like or None, default=None
        Folder of the cache of rewrites (see :class:`CachedRewriter`); rewrites
        are stored batch by batch.
    progress : bool, default=True
        Show a tqdm progress bar over batches.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The loaded model (after the first call).
    tokenizer_ : transformers.PreTrainedTokenizerBase
        Its tokenizer.

    Examples
    --------
    >>> from skpref.causal import HFRewriter
    >>> rewriter = HFRewriter("HuggingFaceTB/SmolLM2-135M-Instruct",
    ...                       {0: "Rewrite it without politeness.",
    ...                        1: "Rewrite it politely."})
    >>> rewriter.instruction[1]
    'Rewrite it politely.'
    """

    def __init__(
        self,
        model,
        instruction,
        *,
        max_new_tokens=256,
        batch_size=8,
        device="auto",
        do_sample=False,
        temperature=1.0,
        random_state=0,
        cache_dir=None,
        progress=True,
    ):
        self.model = model
        self.instruction = instruction
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.device = device
        self.do_sample = do_sample
        self.temperature = temperature
        self.random_state = random_state
        self.cache_dir = cache_dir
        self.progress = progress

    def _identity(self):
        identity = {
            "rewriter": "HFRewriter",
            "model": str(self.model),
            "max_new_tokens": int(self.max_new_tokens),
            "do_sample": bool(self.do_sample),
        }
        if self.do_sample:
            identity.update(temperature=self.temperature, seed=self.random_state)
        return identity

    def _instruction(self, target):
        return check_instruction(self.instruction, owner="HFRewriter")[target]

    def _load(self):
        if getattr(self, "model_", None) is not None:
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path, extra = Path(str(self.model)), {}
        if path.suffix == ".gguf":
            path, extra = path.parent, {"gguf_file": path.name}
        source = str(path) if path.exists() else str(self.model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **extra)
            model = AutoModelForCausalLM.from_pretrained(source, **extra)
        except OSError as exc:
            raise ValueError(
                f"HFRewriter could not load the model {str(self.model)!r}: give a "
                "local folder of a causal LM (or a .gguf file), or a Hub name with "
                f"network access. ({exc})"
            ) from exc
        tokenizer.padding_side = "left"  # generation continues the right end
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.device_ = resolve_device(self.device, owner="HFRewriter")
        self.model_ = model.to(self.device_).eval()
        self.tokenizer_ = tokenizer

    def _texts(self, prompts, responses, targets):
        texts = []
        for prompt, response, target in zip(prompts, responses, targets, strict=True):
            message = rewrite_message(self._instruction(target), prompt, response)
            if self.tokenizer_.chat_template:
                texts.append(
                    self.tokenizer_.apply_chat_template(
                        [{"role": "user", "content": message}],
                        tokenize=False,
                        add_generation_prompt=True,
                    )
                )
            else:
                texts.append(f"{message}\n\nRewritten response:\n")
        return texts

    def _rewrite(self, prompts, responses, targets, done):
        import torch
        from tqdm.auto import tqdm

        check_instruction(self.instruction, owner="HFRewriter")
        self._load()
        texts = self._texts(prompts, responses, targets)
        step = max(int(self.batch_size), 1)
        starts = range(0, len(texts), step)
        for k, start in enumerate(
            tqdm(starts, desc="HFRewriter", unit="batch", disable=not self.progress)
        ):
            batch = texts[start : start + step]
            # the chat template already holds the special tokens it needs
            tokens = self.tokenizer_(
                batch,
                return_tensors="pt",
                padding=True,
                add_special_tokens=not self.tokenizer_.chat_template,
            ).to(self.device_)
            settings = {
                "max_new_tokens": int(self.max_new_tokens),
                "do_sample": bool(self.do_sample),
                "pad_token_id": self.tokenizer_.pad_token_id,
            }
            if self.do_sample:
                settings["temperature"] = float(self.temperature)
            else:  # the model's own sampling defaults would warn under greedy
                settings.update(temperature=None, top_p=None, top_k=None)
            # torch.manual_seed reseeds every CUDA device: fork them all
            on_cuda = torch.device(self.device_).type == "cuda"
            devices = list(range(torch.cuda.device_count())) if on_cuda else []
            with torch.random.fork_rng(devices=devices), torch.inference_mode():
                torch.manual_seed(int(self.random_state) + k)
                out = self.model_.generate(**tokens, **settings)
            new = out[:, tokens["input_ids"].shape[1] :]
            rewrites = self.tokenizer_.batch_decode(new, skip_special_tokens=True)
            done(range(start, start + len(batch)), [text.strip() for text in rewrites])
