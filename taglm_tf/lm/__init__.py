"""Language models: the word vocabulary (``vocab``), Google's lm_1b release format read and
written (``lm1b``), LM definitions and pretraining (``pretraining``), and frozen LMs as tagger
features (``frozen``)."""
