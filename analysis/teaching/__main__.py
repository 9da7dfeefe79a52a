"""``python -m analysis.teaching`` (``make reset``): bring ``runs/lab`` back in line with
``notebooks/lab-params.yaml`` through the pipeline's step cache."""

import sys

from analysis.teaching.reset import main

if __name__ == "__main__":
    sys.exit(main())
