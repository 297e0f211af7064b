#!/usr/bin/env bash
# Reads a run's TensorBoard event files (written with `tensorboard: true`) with TensorBoard's own
# reader (EventAccumulator) and prints, per stage, the number of scalar tags and a few series.
#
#   scripts/check-tensorboard.sh runs/quickstart
#
# Needs python3 with venv; installs the tensorboard package into target/tensorboard-venv once.
set -euo pipefail
RUN="${1:?usage: scripts/check-tensorboard.sh RUN_DIR}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/target/tensorboard-venv"
[ -d "$RUN/tensorboard" ] || { echo "no $RUN/tensorboard: run with 'tensorboard: true' in the config" >&2; exit 2; }
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q tensorboard
fi
"$VENV/bin/python" - "$RUN/tensorboard" <<'PY'
import glob, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
for d in sorted(glob.glob(sys.argv[1] + "/*")):
    ea = EventAccumulator(d)
    ea.Reload()
    tags = ea.Tags()["scalars"]
    print(d.rsplit("/", 1)[-1] + ":", len(tags), "scalar tags")
    for t in tags[:3]:
        s = ea.Scalars(t)
        print("   %-28s %d points, step %d..%d, last %.6g" % (t, len(s), s[0].step, s[-1].step, s[-1].value))
PY
