"""Package discovery (the metadata lives in pyproject.toml).

The repository root *is* the ``trialforge`` package, which pyproject's ``packages.find`` cannot express
(it would install ``sdtm``, ``adam`` ... as top-level names). So every folder below the root that has an
``__init__.py`` ships as ``trialforge.<folder>`` — ``trialforge.adam.recipes`` and any future subpackage
included, with no hand-kept list — and each subpackage carries its data files (YAML, CSV, TSV, XSL ...).
"""
from setuptools import find_packages, setup

NOT_SHIPPED = ["tests", "tests.*", "benchmarks", "benchmarks.*", "scripts", "scripts.*", "docs", "docs.*",
               "examples", "examples.*", "build", "build.*", "dist", "dist.*", "venv", "venv.*"]
DATA = ["**/*.yaml", "**/*.yml", "**/*.csv", "**/*.tsv", "**/*.txt", "**/*.json", "**/*.xsl", "**/*.xsd",
        "**/*.css", "**/*.html"]

EXAMPLES = ["examples/*/study.yaml", "examples/*/raw/**/*", "examples/*/specs/**/*"]   # not a local out/

SUBPACKAGES = sorted(find_packages(".", exclude=NOT_SHIPPED))

setup(
    packages=["trialforge"] + [f"trialforge.{name}" for name in SUBPACKAGES],
    package_dir={"trialforge": "."},
    package_data={"trialforge": EXAMPLES, **{f"trialforge.{name}": DATA for name in SUBPACKAGES}},
)
