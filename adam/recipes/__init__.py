"""Dataset recipes: compose the derivations into ADSL, ADAE, ADRS, ADTTE, ADPC, ADPP and PP."""
