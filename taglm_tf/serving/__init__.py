"""Serving a trained tagger: the Python API (``api``: ``Tagger.load``, ``predict``) and the
SavedModel export (``export``). The command-line tools over them are ``taglm_tf.tag`` and
``taglm_tf.export``."""
