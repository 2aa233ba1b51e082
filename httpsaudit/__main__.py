"""``python -m httpsaudit``."""

from httpsaudit.cli import main

main()
