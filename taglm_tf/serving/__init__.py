"""Serving a trained tagger: the one tagging computation (``module``: ``TaggerModule``), the
Python API around it (``api``: ``Tagger.load``, ``predict``) and the SavedModel export of the
same module (``export``). The command-line tools over them are ``taglm_tf.tag`` and
``taglm_tf.export``."""
