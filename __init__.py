"""trialforge: raw CRF exports to a regulator-ready CDISC submission."""

__version__ = "0.1.0"
