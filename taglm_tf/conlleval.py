"""The CoNLL chunk scorer as a command, printing the Perl script's report
(:mod:`taglm_tf.scoring.conlleval` is the scorer).

Usage: ``python -m taglm_tf.conlleval [-l] [-r] [-d DELIM] [-o OTAG] [FILE]``.
"""

import sys

from taglm_tf.scoring.conlleval import main

if __name__ == "__main__":
    sys.exit(main())
