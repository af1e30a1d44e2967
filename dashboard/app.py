"""The page's entry: ``streamlit run dashboard/app.py``. ``python -m dashboard`` (``make
dashboard``) checks the settings first and runs it on DASHBOARD_HOST:DASHBOARD_PORT."""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__":  # Streamlit runs this file as __main__ on every interaction
    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:  # `streamlit run` puts this folder on the path, not the repo's
        sys.path.insert(0, root)
    from dashboard.shell import main

    main()
