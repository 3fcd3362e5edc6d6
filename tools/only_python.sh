#!/bin/bash
# A newcomer's machine with one Python only: a fresh clone of this checkout whose PATH offers
# python3.X (and python3) and no other python3.1x, then the README's two commands.
#   tools/only_python.sh 3.12        (needs a real python3.12 somewhere, e.g. pyenv's)
# Prints each command's exit status and time; the logs stay in the temporary directory it names.
set -u
version=${1:?usage: tools/only_python.sh 3.X}
real=$(python$version -c 'import sys; print(sys.executable)') || { echo "no python$version here" >&2; exit 1; }
repo=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d)
mkdir "$d/bin"
ln -s "$real" "$d/bin/python$version"
ln -s "python$version" "$d/bin/python3"
for other in python python3.9 python3.10 python3.11 python3.12 python3.13; do
  [ "$other" = "python$version" ] && continue
  printf '#!/bin/sh\necho "%s: command not found" >&2\nexit 127\n' "$other" > "$d/bin/$other"
  chmod +x "$d/bin/$other"
done
git clone -q "$repo" "$d/p"
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$d/shared"
cd "$d/p" && git log --oneline -1
export PATH="$d/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
unset PYENV_VERSION VIRTUAL_ENV
s=$SECONDS; make demo > "$d/demo.log" 2>&1; echo "make demo: exit $? in $((SECONDS - s)) s"
s=$SECONDS; make test > "$d/test.log" 2>&1; echo "make test: exit $? in $((SECONDS - s)) s"
echo "logs: $d/demo.log $d/test.log"
