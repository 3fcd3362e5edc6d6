"""What every benchmark adds to its result: the machine and the code version."""
from __future__ import annotations

import json
import os
import platform
from typing import Optional

from taglm_tf.provenance import git_commit


def report(result: dict, output: Optional[str] = None) -> None:
    """Add machine and commit, print the result as JSON, and write it to ``output`` if given."""
    result.update({"cpus": os.cpu_count(), "machine": platform.machine(), "git_commit": git_commit()})
    print(json.dumps(result, indent=1))
    if output:
        with open(output, "w") as f:
            json.dump(result, f, indent=1)
