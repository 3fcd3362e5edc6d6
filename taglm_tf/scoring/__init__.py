"""The scorers, TensorFlow-free: ``conlleval`` (the CoNLL chunk scorer, ported byte for byte
from the Perl script) and ``brat_eval`` (exact spans over BRAT folders, as ScienceIE scores them).
Which task uses which is the task registry's business (``taglm_tf.tasks``)."""
