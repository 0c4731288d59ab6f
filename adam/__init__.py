"""ADaM layer: admiral-style derivations and dataset recipes from SDTM.

Public API (see docs/adam.md): ``build_adam``, ``load_adam_config``, the derivation functions below, and
``EventSource``/``CensorSource`` for time-to-event parameters.
"""
from .build import build_adam
from .config import AdamConfig, adam_config_from_dict, load_adam_config
from .dates import derive_vars_dt, derive_vars_dtm, derive_vars_dy, impute_dtc_dt, impute_dtc_dtm
from .derive import (derive_var_ablfl, derive_var_base, derive_var_chg, derive_var_extreme_flag, derive_var_pchg,
                     derive_var_trtemfl, derive_vars_duration, derive_vars_merged)
from .nca import NcaRules, auc_interval, nca_by_subject, nca_profile
from .response import (confirmed_responses, derive_param_bor, derive_param_confirmed_bor, derive_param_response,
                       first_response_date)
from .tte import CensorSource, EventSource, derive_param_tte
