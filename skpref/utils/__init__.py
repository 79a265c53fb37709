"""Validation helpers shared by every skpref component.

This is the one package whose helpers the others import: pair arrays, labels and
sample weights, the seeding scheme of fits and their holdout, the objective coding,
the ``<name>_a | <name>_b`` columns of covariates, texts, the device and the
Hugging Face Hub settings. It also re-exports scikit-learn's declarative parameter
validation (``Interval``, ``StrOptions``, ``HasMethods``, ``RealNotInt``,
``validate_params``, ``validate_parameter_constraints``, ``fit_context``) and
``num_samples``, which are private in scikit-learn: skpref reaches them here only,
so that a change upstream is mended in one place.
"""

from skpref.utils._columns import check_unique_columns, pair_column_stems
from skpref.utils._consistency import encode_objective_and_prompt_type
from skpref.utils._device import resolve_device
from skpref.utils._factors import check_factor_pair
from skpref.utils._hub import installed_model, looks_like_path, offline_mode
from skpref.utils._objectives import (
    check_objective_categories,
    check_objective_ids,
    encode_objectives,
    n_objectives,
    objective_coding,
    objective_from_columns,
    objective_names,
)
from skpref.utils._pair_inputs import (
    check_fit_data,
    check_fit_target,
    check_margins,
    check_score_target,
    check_weights,
    float32_pairs,
    single_responses,
    torch_ready,
    validation_arrays,
)
from skpref.utils._seeds import (
    Seeds,
    holdout,
    member_random_states,
    random_state_generator,
)
from skpref.utils._texts import (
    check_text_list,
    check_texts,
    split_dialogue,
    split_implicit_prompts,
)
from skpref.utils._validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    check_both_labels,
    check_pair_labels,
    check_pair_target,
    check_pair_width,
    fit_context,
    num_samples,
    split_pairs,
    validate_parameter_constraints,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Interval",
    "RealNotInt",
    "Seeds",
    "StrOptions",
    "check_both_labels",
    "check_factor_pair",
    "check_fit_data",
    "check_fit_target",
    "check_margins",
    "check_objective_categories",
    "check_objective_ids",
    "check_pair_labels",
    "check_pair_target",
    "check_pair_width",
    "check_score_target",
    "check_text_list",
    "check_texts",
    "check_unique_columns",
    "check_weights",
    "encode_objective_and_prompt_type",
    "encode_objectives",
    "objective_from_columns",
    "installed_model",
    "looks_like_path",
    "fit_context",
    "float32_pairs",
    "holdout",
    "member_random_states",
    "n_objectives",
    "num_samples",
    "objective_coding",
    "objective_names",
    "offline_mode",
    "pair_column_stems",
    "random_state_generator",
    "resolve_device",
    "single_responses",
    "split_dialogue",
    "split_implicit_prompts",
    "split_pairs",
    "torch_ready",
    "validate_parameter_constraints",
    "validate_params",
    "validation_arrays",
]
