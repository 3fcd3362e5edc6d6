"""TagLM-TF: semi-supervised sequence tagging with bidirectional LMs (Peters et al., 2017)."""

from setuptools import find_namespace_packages, setup

# Data directories (taglm_tf/resources, experiments/flags) are importable namespace packages to
# Python, so they are packages here too, with their files as package data: setuptools warns about
# a data directory that is not in `packages`.
TOP = ("taglm_tf", "lm_1b_export", "experiments")
# `package_dir={"": "."}` tells setuptools the packages sit at the repository root, so an editable
# install (`pip install -e .`, as the Makefile does) is a plain .pth entry for this directory.
# Without it setuptools installs an import-hook finder and warns ("Editable installation ...
# folders in your working directory ... may take precedence"), which is noise for a checkout.
# The trade: the whole checkout is on sys.path (after site-packages) in an editable venv, so
# `benchmarks` imports from anywhere; wheels are unchanged.

setup(
    name="taglm-tf",
    version="0.1.0",
    description="TensorFlow/Keras reproduction of TagLM with a faithful lm_1b loader",
    long_description=open("README.md", encoding="utf-8").read()
    if __import__("os").path.exists("README.md")
    else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.14",  # dataclass(kw_only=True), zip(strict=True)
    package_dir={"": "."},
    packages=find_namespace_packages(
        include=[p for top in TOP for p in (top, top + ".*")], exclude=["*.__pycache__"]
    ),
    package_data={"taglm_tf.resources": ["*"], "experiments.flags": ["*.cfg"]},
    install_requires=[
        "numpy",
        "absl-py",
        "h5py",
        "matplotlib",  # PNG plots in experiments.report
        "scipy>=1.11",  # the report's t-tests (TtestResult.df) and t intervals
        "spacy>=3.7,<4",  # raw-text tokenization (rule-based, no model download; taglm_tf/data/tokenize.py)
    ],
    # One TensorFlow stack extra is required. "current" also needs `pip install --no-deps
    # tf_keras==2.21.*` afterwards (the Makefile does it): tf_keras requires `tensorflow`, which
    # would pull the full CUDA build next to tensorflow-cpu. The card's stack keeps
    # tensorflow-addons, which the library does not use, as the reference the CRF tests compare
    # the project's own CRF ops with.
    extras_require={
        "cpu": ["tensorflow-cpu==2.15.1", "tensorflow-addons==0.23.0", "numpy<2"],  # the card's stack
        "gpu": ["tensorflow[and-cuda]==2.15.1", "tensorflow-addons==0.23.0", "numpy<2"],
        "current": [
            "tensorflow-cpu==2.21.*",
            "tensorboard==2.21.*",
        ],  # TF 2.21 no longer requires tensorboard
        "current-gpu": ["tensorflow[and-cuda]==2.21.*", "tensorboard==2.21.*"],
        "test": [
            "pytest",
            "pytest-xdist",
            "import-linter",
            "ruff",
            "seqeval",
        ],  # seqeval: tests/scoring/test_conlleval_vs_seqeval.py only
    },
    # Each script runs its module as `python -m MODULE` does (taglm_tf/utils/console_scripts.py),
    # so the process settings are made before TensorFlow is imported, as under `python -m`.
    entry_points={
        "console_scripts": [
            "taglm-tag = taglm_tf.utils.console_scripts:tag",
            "taglm-export = taglm_tf.utils.console_scripts:export",
            "taglm-conlleval = taglm_tf.utils.console_scripts:conlleval",
            "taglm-train = taglm_tf.utils.console_scripts:train",
            "taglm-brat-eval = taglm_tf.utils.console_scripts:brat_eval",
            "taglm-pretrain-lm = taglm_tf.utils.console_scripts:pretrain_lm",
            "taglm-eval-lm = taglm_tf.utils.console_scripts:eval_lm",
            "taglm-lm1b-dump-lstm-emb = taglm_tf.utils.console_scripts:lm1b_dump_lstm_emb",
            "taglm-lm1b-export = taglm_tf.utils.console_scripts:lm1b_export",
            "taglm-lm1b-from-pretrained = taglm_tf.utils.console_scripts:lm1b_from_pretrained",
        ]
    },
    license="Apache-2.0",
)
